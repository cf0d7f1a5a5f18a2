"""Live audio and video from the candidate's machine over WebRTC (aiortc): the tracks that read
the app's camera reader and microphone (`tracks.py`) and the publisher that offers them on the
candidate socket and retries with back-off (`publisher.py`)."""
