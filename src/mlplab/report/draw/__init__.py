"""Shared drawing: figures, curves, image grids, projections and the one GIF + MP4 animation writer."""
