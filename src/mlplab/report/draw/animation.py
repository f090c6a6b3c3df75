"""The one animation writer: pictures -> STEM.gif (imageio), and STEM.mp4 where an ffmpeg is found."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from mlplab.runs import atomic_path


def animate(pictures: list[np.ndarray], stem: Path, fps: int) -> None:
    """uint8 pictures ((H, W) or (H, W, 3), all one size) as STEM.gif, and STEM.mp4 where an ffmpeg is found
    (an ffmpeg that fails leaves the GIF alone)."""
    import imageio.v2 as imageio

    with atomic_path(stem.parent / f"{stem.name}.gif") as tmp:
        imageio.mimsave(tmp, pictures, format="GIF", duration=1000 / fps, loop=0)
    exe = ffmpeg()
    if exe:
        try:
            write_mp4(exe, pictures, stem.parent / f"{stem.name}.mp4", fps)
        except (OSError, subprocess.SubprocessError):
            pass  # an ffmpeg that cannot encode: the GIF stands alone


def ffmpeg() -> str | None:
    """An ffmpeg executable: imageio-ffmpeg's bundled one, else one on PATH, else None (MP4 skipped)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def write_mp4(exe: str, pictures: list[np.ndarray], path: Path, fps: int) -> None:
    h, w = pictures[0].shape[:2]
    h2, w2 = h + h % 2, w + w % 2  # yuv420p needs even sides
    rgb = [np.pad(np.stack([s] * 3, -1) if s.ndim == 2 else s, ((0, h2 - h), (0, w2 - w), (0, 0))) for s in pictures]
    with atomic_path(path) as tmp:
        cmd = [exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w2}x{h2}"]
        cmd += ["-r", str(fps), "-i", "-", "-pix_fmt", "yuv420p", "-vcodec", "libx264", "-f", "mp4", str(tmp)]
        result = subprocess.run(cmd, input=b"".join(f.tobytes() for f in rgb), capture_output=True, timeout=120)
        if result.returncode != 0:
            raise OSError(f"ffmpeg failed: {result.stderr.decode(errors='replace')[:200]}")
