"""Warm Jupyter kernels: start, ready, reset, recycle and stop, on public jupyter_client API.

A :class:`KernelPool` holds the kernels of one process and hands them out one report at a
time.  Each :class:`Kernel` has its own thread (and that thread's asyncio loop) and:

* **starts** with the running interpreter, ``sys.executable -m ipykernel_launcher``,
  whatever kernel specs the user has installed: the pool writes its own kernel spec
  (:data:`KERNEL_NAME`) into its private folder and gives jupyter_client a
  ``KernelSpecManager`` that looks only there;
* talks over ZeroMQ **IPC sockets** named after a unique connection file in that folder
  (``/tmp/xzk-*``), so concurrent starts cannot race for TCP ports (papermill issues
  #511, #239, #473); a kernel that still fails to start is retried on fresh sockets,
  up to 3 times, and the retries are counted;
* is **ready** when it answered ``kernel_info`` on its shell channel and its IOPub
  subscription delivers messages (``wait_for_ready`` without its fixed 0.2 s wait for
  IOPub to fall silent);
* is **warmed** once and **reset** before every report by :mod:`xzlib.report.batch.warm`;
* is **recycled** (killed, and a fresh one started in the background) after
  ``recycle_after`` reports and after any failure;
* runs in its own process session, so :meth:`KernelPool.kill` reaches it and its
  children at once (Ctrl-C), and Ctrl-C in a terminal reaches only the builder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from .specs import PoolConfig
from .warm import RECORD_SEP

__all__ = ["KernelPool", "Kernel", "KernelStartError", "PoolClosed", "KERNEL_NAME", "plain"]

logger = logging.getLogger(__name__)

#: Name of the kernel spec the pool writes for itself (the running interpreter).
KERNEL_NAME = "xzlib-build"
_START_ATTEMPTS = 3
_WARM = "__import__('xzlib.report.batch.warm', fromlist=['_'])"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class KernelStartError(RuntimeError):
    """No kernel could be started after the allowed attempts."""


class PoolClosed(RuntimeError):
    """The pool was closed or killed (the build is stopping)."""


def plain(text: str) -> str:
    """``text`` without ANSI colour codes (tracebacks from a kernel)."""
    return _ANSI.sub("", text)


def _record(stdout: str):
    """The JSON record printed after the record separator, or None."""
    if RECORD_SEP not in stdout:
        return None
    return json.loads(stdout.rsplit(RECORD_SEP, 1)[1].strip())


def kill_pid(pid: int) -> None:
    """SIGKILL a kernel and its process group (it is a session leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if os.getpgid(pid) == pid and pid != os.getpgid(0):
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def alive(km) -> bool:
    """Whether the kernel of manager ``km`` is running."""
    from jupyter_core.utils import run_sync

    try:
        return bool(run_sync(km.is_alive)())
    except Exception:
        return False


def _kernel_pid(km) -> int | None:
    prov = getattr(km, "provisioner", None)
    proc = getattr(prov, "process", None)
    pid = getattr(proc, "pid", None) or getattr(prov, "pid", None)
    return int(pid) if pid else None


class Kernel:
    """One warm kernel, driven by its own thread (and that thread's asyncio loop)."""

    def __init__(self, pool: KernelPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"xz-kernel-{index}")
        self.km = None
        self.kc = None
        self.pid: int | None = None
        self.reports = 0
        self.starts = 0
        self.start_retries = 0
        self.preload_failed: dict = {}

    # -- called from any thread
    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` on this kernel's thread."""
        return self._thread.submit(fn, *args)

    def release_thread(self) -> None:
        """Let this kernel's thread end once the work already submitted is done."""
        self._thread.shutdown(wait=False)

    def info(self) -> dict:
        """Pid, reports run, starts and start retries of this kernel, and the host."""
        return {
            "pid": self.pid,
            "index": self.index,
            "reports": self.reports,
            "starts": self.starts,
            "start_retries": self.start_retries,
            "host": socket.gethostname(),
        }

    # -- everything below runs on the kernel's own thread
    @staticmethod
    def sync(fn, *args, **kwargs):
        """Run coroutine function ``fn`` to completion on this thread's loop."""
        from jupyter_core.utils import run_sync

        return run_sync(fn)(*args, **kwargs)

    def ensure_started(self) -> None:
        """Start (or restart) the kernel if it is not running; retried on fresh sockets."""
        if self.km is not None and alive(self.km):
            return
        self.stop()
        error: Exception | None = None
        for attempt in range(_START_ATTEMPTS):
            if self.pool.closed:
                raise PoolClosed("the kernel pool is closed")
            try:
                self.sync(self._astart)
                return
            except PoolClosed:
                raise
            except Exception as exc:
                error = exc
                self.start_retries += 1
                logger.warning("kernel %d failed to start (attempt %d/%d): %s",
                               self.index, attempt + 1, _START_ATTEMPTS, exc)
                self.stop()
        raise KernelStartError(
            f"no kernel could be started after {_START_ATTEMPTS} attempts: {error}"
        )

    async def _astart(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        cfg = self.pool.config
        stem = os.path.join(self.pool.run_dir, f"k{self.index}-{uuid.uuid4().hex[:8]}")
        km = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=self.pool.kernel_specs(),
            transport="ipc",
            connection_file=stem + ".json",
            ip=stem + "-ipc",
        )
        self.km = km
        await km.start_kernel(
            cwd=self.pool.run_dir,
            env={**os.environ, **cfg.env},
            # as nbclient does for the kernels it starts: the reports' cells are not the
            # user's IPython history (and kernels writing one SQLite file wait for each other)
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        self.pid = _kernel_pid(km)
        if self.pool.closed:  # killed while starting
            raise PoolClosed("the kernel pool is closed")
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        await self._await_ready(cfg.start_timeout)
        modules = None if cfg.preload is None else list(cfg.preload)
        out, err = await self.arun(f"{_WARM}.start({modules!r})", timeout=cfg.start_timeout + 120)
        if err:
            raise RuntimeError(f"kernel warm-up failed: {err}")
        record = _record(out) or {}
        self.preload_failed = record.get("failed", {})
        if self.preload_failed:
            logger.debug("kernel %d could not pre-import %s", self.index, self.preload_failed)
        self.starts += 1
        self.reports = 0

    async def _await_ready(self, timeout: float) -> None:
        """Wait until the kernel answers on its shell channel and IOPub is connected."""
        kc, km = self.kc, self.km
        deadline = time.monotonic() + timeout
        while True:
            kc.kernel_info()
            try:
                reply = await kc.shell_channel.get_msg(timeout=1)
            except queue.Empty:
                reply = None
            if reply is not None and reply.get("msg_type") == "kernel_info_reply":
                try:  # a subscriber that connects late misses messages: ask again then
                    await kc.iopub_channel.get_msg(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    return
            if not await km.is_alive():
                raise RuntimeError("the kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not answer within {timeout:.0f} s")

    async def arun(self, code: str, *, timeout: float | None) -> tuple[str, str | None]:
        """Run ``code`` in the kernel; return (stdout, error text or None)."""
        kc, km = self.kc, self.km
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=False)
        deadline = None if timeout is None else time.monotonic() + timeout
        stdout: list[str] = []
        error = None
        while True:
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError(f"kernel did not finish within {timeout:.0f} s")
            try:
                msg = await kc.get_iopub_msg(timeout=wait)
            except queue.Empty:
                if not await km.is_alive():
                    raise RuntimeError("kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content.get("text", ""))
            elif kind == "error":
                tb = plain("\n".join(content.get("traceback", [])))
                error = f"{content.get('ename')}: {content.get('evalue')}\n{tb}"
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        while True:  # the matching shell reply
            wait = 10.0 if deadline is None else max(0.1, deadline - time.monotonic())
            try:
                reply = await kc.get_shell_msg(timeout=wait)
            except queue.Empty:
                raise TimeoutError("no reply from the kernel") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return "".join(stdout), error

    def call(self, function: str, *args, timeout: float | None = 60) -> dict:
        """Call ``function(*args)`` of :mod:`xzlib.report.batch.warm`; return its record.

        Raises
        ------
        RuntimeError
            With the kernel's traceback, if the call raised.
        """
        call = f"{_WARM}.{function}({', '.join(map(repr, args))})"
        out, err = self.sync(self.arun, call, timeout=timeout)
        if err:
            raise RuntimeError(err)
        return _record(out) or {}

    def reset(self, cwd: str) -> None:
        """Clear what the previous report left, and work in folder ``cwd``."""
        try:
            self.call("reset", cwd)
        except RuntimeError as exc:
            raise RuntimeError(f"kernel reset failed: {exc}") from None

    def recycle(self) -> None:
        """Replace this kernel by a fresh one (started now, on this kernel's thread)."""
        self.stop()
        if not self.pool.closed:
            with contextlib.suppress(Exception):  # the next report retries and reports it
                self.ensure_started()

    def stop(self) -> None:
        """Kill the kernel now, reap it and release its sockets (idempotent)."""
        km, kc, pid = self.km, self.kc, self.pid
        self.km = self.kc = self.pid = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            if pid is not None:
                # Kill and reap it here: shutdown_kernel(now=True) would kill it too, then
                # poll every 0.1 s until it is gone.
                kill_pid(pid)
                proc = getattr(getattr(km, "provisioner", None), "process", None)
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            try:
                self.sync(km.shutdown_kernel, now=True)
            except Exception as exc:  # already dead, or half started
                logger.debug("kernel %d shutdown: %s", self.index, exc)
                with contextlib.suppress(Exception):
                    self.sync(km.cleanup_resources)
        if pid is not None:
            kill_pid(pid)  # its children too, if any survived


class KernelPool:
    """Warm kernels of one process, handed out one report at a time.

    A kernel is created on demand when every existing one is busy, so the pool grows to
    the number of concurrent callers (a Dask worker's threads), or to
    ``config.max_kernels`` (the ``--jobs`` kernels of a local build, whose executor has
    two threads per kernel: see :mod:`xzlib.report.batch.run`).

    Parameters
    ----------
    config : PoolConfig
        Recycling, start-up timeout, environment, warm-up imports.
    """

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.closed = False
        # IPC socket paths must stay short (about 100 bytes): use a short private folder.
        base = "/tmp" if os.path.isdir("/tmp") else None
        _sweep(base or tempfile.gettempdir())
        self.run_dir = tempfile.mkdtemp(prefix="xzk-", dir=base)
        with open(os.path.join(self.run_dir, "owner"), "w") as f:
            f.write(str(os.getpid()))
        spec = os.path.join(self.run_dir, "kernels", KERNEL_NAME)
        os.makedirs(spec)
        with open(os.path.join(spec, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump({
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"xzlib build ({sys.executable})",
                "language": "python",
                "metadata": {"debugger": False},
            }, f)
        self._specs = None
        self._cond = threading.Condition()
        self._idle: list[Kernel] = []
        self._kernels: list[Kernel] = []

    def kernel_specs(self):
        """The ``KernelSpecManager`` that knows only this pool's kernel spec."""
        with self._cond:
            if self._specs is None:
                from jupyter_client.kernelspec import KernelSpecManager

                self._specs = KernelSpecManager(
                    kernel_dirs=[os.path.join(self.run_dir, "kernels")],
                    ensure_native_kernel=False,
                )
            return self._specs

    def _new(self) -> Kernel:
        k = Kernel(self, len(self._kernels))
        self._kernels.append(k)
        return k

    def prestart(self, n: int) -> None:
        """Start kernels in the background until the pool has ``n`` of them."""
        with self._cond:
            while len(self._kernels) < n and not self.closed:
                k = self._new()
                k.submit(_quiet, k.ensure_started)
                self._idle.append(k)

    def acquire(self) -> Kernel:
        """Return an idle kernel (or a new one) for the calling thread's exclusive use.

        With ``config.max_kernels`` kernels in use, wait until one is released.
        """
        cap = self.config.max_kernels
        with self._cond:
            while True:
                if self.closed:
                    raise PoolClosed("the kernel pool is closed")
                if self._idle:
                    ready = [k for k in self._idle if k.km is not None]
                    k = ready[0] if ready else self._idle[0]
                    self._idle.remove(k)
                    return k
                if cap is None or len(self._kernels) < cap:
                    return self._new()
                self._cond.wait()

    def release(self, kernel: Kernel, *, failed: bool) -> None:
        """Give a kernel back; recycle it (in the background) after a failure or K reports."""
        with self._cond:
            if self.closed:  # stopping: close() stops (or has stopped) every kernel
                return
            if failed or kernel.reports >= max(1, self.config.recycle_after):
                kernel.submit(kernel.recycle)
            self._idle.append(kernel)
            self._cond.notify_all()

    def pids(self) -> list[int]:
        """Pids of the running kernels."""
        with self._cond:
            return [k.pid for k in self._kernels if k.pid is not None]

    def stats(self) -> dict:
        """Kernel counts: kernels, starts and start retries so far."""
        return {
            "kernels": len(self._kernels),
            "starts": sum(k.starts for k in self._kernels),
            "start_retries": sum(k.start_retries for k in self._kernels),
        }

    def close(self, *, timeout: float = 30.0) -> None:
        """Shut every kernel down and remove the pool's folder."""
        with self._cond:
            self.closed = True
            kernels = list(self._kernels)
            self._cond.notify_all()  # callers waiting in acquire() raise PoolClosed
        futures = [k.submit(k.stop) for k in kernels]
        end = time.monotonic() + timeout
        for f in futures:
            with contextlib.suppress(Exception):
                f.result(timeout=max(0.1, end - time.monotonic()))
        for k in kernels:
            k.release_thread()
            if k.pid is not None:  # a stop that did not finish in time
                kill_pid(k.pid)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def kill(self) -> None:
        """Kill every kernel at once (Ctrl-C), then reap them and close the pool."""
        with self._cond:
            self.closed = True
            pids = [k.pid for k in self._kernels if k.pid is not None]
        for pid in pids:
            kill_pid(pid)
        self.close(timeout=10.0)


def _sweep(base: str) -> None:
    """Remove pool folders left by processes that were killed (``SIGKILL``)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            if not name.startswith("xzk-"):
                continue
            folder = os.path.join(base, name)
            try:
                with open(os.path.join(folder, "owner")) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue  # not ours, or still being created
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except PermissionError:
                pass


def _quiet(fn, *args) -> None:
    try:
        fn(*args)
    except Exception as exc:  # reported by the report that needs the kernel
        logger.debug("background kernel start failed: %s", exc)
