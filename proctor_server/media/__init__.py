"""Live audio and video: the `MediaGateway` seam (`gateway.py`) and its aiortc implementation."""
