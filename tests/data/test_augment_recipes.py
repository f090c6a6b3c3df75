"""The augmentations of the best recipes: elastic distortion and the batched affine grid, checked against
torch's own convolution and `affine_grid`, and by what they do to a known image."""

import math

import pytest
import torch
import torch.nn.functional as F

from mlplab.data import augment as aug
from mlplab.data import load_dataset


def test_smooth_field_is_the_separable_gaussian_convolution():
    noise = torch.rand(3, 2, 28, 20, generator=torch.Generator().manual_seed(0)) * 2 - 1
    sigma = 4.0
    radius = math.ceil(3 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    ref = noise.reshape(6, 1, 28, 20)
    ref = F.conv2d(ref, k.view(1, 1, -1, 1), padding=(radius, 0))  # zero outside the image, as the matrices
    ref = F.conv2d(ref, k.view(1, 1, 1, -1), padding=(0, radius))
    torch.testing.assert_close(aug.smooth_field(noise, sigma), ref.reshape(3, 2, 28, 20), atol=1e-6, rtol=0)


def test_affine_is_torchs_affine_grid_and_grid_sample():
    x = torch.rand(16, 1, 12, 9)
    gen = torch.Generator().manual_seed(3)
    out = aug.small_affine(degrees=20, translate=0.2, scale=(0.8, 1.2))(x, gen)
    # redraw the same parameters and let torch build the grid
    gen = torch.Generator().manual_seed(3)
    n = len(x)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(20)
    s = 0.8 + torch.rand(n, generator=gen) * 0.4
    tx = (torch.rand(n, generator=gen) * 2 - 1) * 0.4
    ty = (torch.rand(n, generator=gen) * 2 - 1) * 0.4
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    ref = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_elastic_without_strength_is_the_identity_and_with_it_moves_pixels_a_little():
    ds = load_dataset("digits", image_size=28)  # the paper's alpha and sigma are for 28x28 digits
    x = ds.train.x[:64]
    gen = torch.Generator().manual_seed(0)
    torch.testing.assert_close(aug.elastic(alpha=0.0, sigma=1.0)(x, gen), x, atol=1e-5, rtol=0)
    black = float(x.min())
    out = aug.elastic(alpha=34, sigma=4, fill=black)(x, torch.Generator().manual_seed(0))
    again = aug.elastic(alpha=34, sigma=4, fill=black)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and torch.equal(out, again)  # the generator decides every draw
    moved = (out - x).abs().mean() / (x - black).abs().mean()
    assert 0.05 < moved < 0.8  # distorted, not destroyed
    assert (out - black).abs().sum() == pytest.approx(float((x - black).abs().sum()), rel=0.2)  # ink is kept


def test_elastic_displacement_has_the_papers_size():
    """A field of uniform noise in [-1, 1] blurred by a unit-sum Gaussian of sigma and scaled by alpha has a
    standard deviation of alpha / sqrt(3) * sqrt(sum k^2) in the image's interior; sum k^2 = 1 / (4 pi sigma^2)."""
    gen = torch.Generator().manual_seed(0)
    noise = torch.rand(256, 2, 64, 64, generator=gen) * 2 - 1
    field = aug.smooth_field(noise, 4.0) * 34.0
    interior = field[:, :, 16:-16, 16:-16]
    expected = 34.0 / math.sqrt(3) / math.sqrt(4 * math.pi * 16.0)
    assert float(interior.std()) == pytest.approx(expected, rel=0.05)


def test_augment_names_include_elastic_and_refuse_unknown_ones():
    ds = load_dataset("digits")
    fn = aug.augment_from_names(["affine", "elastic"], ds)
    assert fn(ds.train.x[:8], torch.Generator().manual_seed(0)).shape == ds.train.x[:8].shape
    with pytest.raises(Exception, match="unknown augmentation 'wobble'.*elastic"):
        aug.augment_from_names(["wobble"], ds)


def test_random_erasing_is_torchvisions_erase_on_each_images_box():
    from torchvision.transforms.v2 import functional as TF

    x = torch.rand(64, 3, 10, 14)
    out = aug.random_erasing(p=0.7)(x, torch.Generator().manual_seed(5))
    gen = torch.Generator().manual_seed(5)  # the same draws, in the same order
    boxes = aug.erase_boxes(64, 10, 14, gen, 0.7, (0.02, 0.4), (0.3, 3.3))
    noise = torch.randn(x.shape, generator=gen)
    erased = 0
    for i, (top, left, h, w) in enumerate(boxes.tolist()):
        ref = x[i]
        if h:
            ref = TF.erase(x[i], top, left, h, w, noise[i, :, top : top + h, left : left + w])
            erased += 1
        torch.testing.assert_close(out[i], ref, atol=0, rtol=0)
    assert 30 <= erased <= 58  # about p of the images, less the boxes that do not fit


def test_random_erasing_boxes_have_the_asked_area_and_stay_inside():
    boxes = aug.erase_boxes(20000, 28, 28, torch.Generator().manual_seed(0), 1.0, (0.02, 0.4), (0.3, 3.3))
    top, left, h, w = boxes.T
    kept = h > 0
    assert kept.float().mean() > 0.7  # most boxes fit at this area and ratio
    assert bool(((top + h <= 28) & (left + w <= 28)).all())
    share = (h * w)[kept].float() / 28**2
    assert 0.01 < float(share.min()) and float(share.max()) < 0.45
    ratio = (h.float() / w.float())[kept]
    assert 0.2 < float(ratio.min()) and float(ratio.max()) < 5.0
