"""The environment self-check (R10, R11): camera, microphone, operating system, screens,
virtual-machine and virtual-camera signs, and the connection to the exam server.

- ``model``: the result values (``CheckReport``, ``CheckResult``, ``Progress``...), pure.
- ``evaluate``: figures in, pass / warn / fail with advice out, pure.
- ``probes``: virtual machine and virtual camera signs from captured texts, pure.
- ``measure``: frame and audio figures, pure.
- ``network``, ``system``: the readers (server, files, commands).
- ``runner``: ``run_environment_check(CheckSettings(...), progress)`` for the UI.
- ``system.gather_device_signals(...)``: the ``hello.client`` device summary for the runtime.
- ``command``: ``proctor-client check``.

This package file imports nothing, so importing the pure modules stays free of I/O.
See docs/environment-check.md.
"""
