"""The client's hardware behind small interfaces, with the fakes that ship.

Camera: ``open_camera(spec)`` for ``--camera DEVICE|synthetic|FILE``, read through one
``CameraReader`` that serves every subscriber (preview, snapshots, the check); microphone:
``open_microphone(spec)`` for ``--mic DEVICE|silence|tone|FILE``; screens: the ``Screens``
interface and ``FixedScreens`` (the Qt implementation lives in ``proctor_client.ui``).
"""

from proctor_client.devices.base import (
    Camera,
    DeviceError,
    Frame,
    Microphone,
    Samples,
    ScreenGeometry,
    Screens,
    close_device,
    read_samples,
)
from proctor_client.devices.camera_names import list_camera_names
from proctor_client.devices.camera_reader import CameraReader, FrameSubscription
from proctor_client.devices.cameras import (
    OpenCVCamera,
    VideoFileCamera,
    check_camera_spec,
    open_camera,
)
from proctor_client.devices.fake_cameras import BlackCamera, FrozenCamera, SyntheticCamera
from proctor_client.devices.jpeg import encode_jpeg
from proctor_client.devices.microphones import (
    SilenceMicrophone,
    SoundDeviceMicrophone,
    ToneMicrophone,
    WavFileMicrophone,
    check_microphone_spec,
    open_microphone,
)
from proctor_client.devices.screens import FixedScreens

__all__ = [
    "BlackCamera",
    "Camera",
    "CameraReader",
    "DeviceError",
    "FixedScreens",
    "Frame",
    "FrameSubscription",
    "FrozenCamera",
    "Microphone",
    "OpenCVCamera",
    "Samples",
    "ScreenGeometry",
    "Screens",
    "SilenceMicrophone",
    "SoundDeviceMicrophone",
    "SyntheticCamera",
    "ToneMicrophone",
    "VideoFileCamera",
    "WavFileMicrophone",
    "check_camera_spec",
    "check_microphone_spec",
    "close_device",
    "encode_jpeg",
    "list_camera_names",
    "open_camera",
    "open_microphone",
    "read_samples",
]
