"""nasrtc: Matrix voice and video calls (MatrixRTC) for a home NAS."""

__version__ = "0.1.0"
