"""Ask the operating system to keep the exam window out of screen captures, where it can.

- Windows 10 2004 and later: `SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)`;
  recorders and screen sharing see a black or empty area instead of the window.
- macOS: the window's `sharingType` set to `NSWindowSharingNone`.
- Elsewhere (X11, Wayland): no such request exists; nothing is done.

The outcome is a short status reported with the device signals ("excluded", "unsupported
on linux", "failed: ..."), so the proctor knows what the candidate's screen may show; the exam
never depends on it.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtWidgets import QWidget

WDA_EXCLUDEFROMCAPTURE = 0x00000011
NS_WINDOW_SHARING_NONE = 0
EXCLUDED = "excluded"


def exclude_from_capture(window: QWidget) -> str:
    """Keep `window` (shown, so it has a native handle) out of captures; return the status."""
    try:
        handle = int(window.winId())
        if sys.platform == "win32":
            return _windows(handle)
        if sys.platform == "darwin":
            return _macos(handle)
    except (OSError, AttributeError, ValueError) as exc:
        return f"failed: {exc}"
    return f"unsupported on {sys.platform}"


def _windows(hwnd: int) -> str:
    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    if not user32.SetWindowDisplayAffinity(ctypes.c_void_p(hwnd), WDA_EXCLUDEFROMCAPTURE):
        return f"failed: SetWindowDisplayAffinity error {ctypes.get_last_error()}"  # type: ignore[attr-defined,unused-ignore]
    return EXCLUDED


def _macos(view: int) -> str:
    objc = ctypes.cdll.LoadLibrary("/usr/lib/libobjc.dylib")
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    send = objc.objc_msgSend
    send.restype = ctypes.c_void_p
    send.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    ns_window = send(ctypes.c_void_p(view), objc.sel_registerName(b"window"))
    if not ns_window:
        return "failed: the window has no NSWindow yet"
    address = ctypes.cast(objc.objc_msgSend, ctypes.c_void_p).value
    if address is None:
        return "failed: objc_msgSend not found"
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long)
    set_sharing = prototype(address)
    set_sharing(ns_window, objc.sel_registerName(b"setSharingType:"), NS_WINDOW_SHARING_NONE)
    return EXCLUDED
