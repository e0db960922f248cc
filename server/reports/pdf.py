"""PDFs laid out in processes of their own, a bounded number at a time.

Laying out the combined report with WeasyPrint is a second or two of CPU
and some hundred megabytes. A red-team pass asked one coordinator's twelve
report PDFs at once: laid out in threads of the server process, each took
53-57 s (twelve layouts sharing one interpreter lock and two cores), the
worker's memory went from 236 to 513 MB and stayed there, and every other
request of that worker waited behind them.

So a PDF is laid out in a process of its own (spawned on the first PDF),
never in the server's:

- ``MACA_PDF_PROCESSES`` processes per server worker lay PDFs out, one
  each at a time; a process is replaced by a fresh one after
  ``MACA_PDF_RENDERS_PER_PROCESS`` PDFs, so memory WeasyPrint does not
  give back is given back with the process;
- at most ``MACA_PDF_QUEUE`` more wait for a process; past that, Maca is
  busy: ``503`` with ``Retry-After``;
- one person may have ``MACA_PDF_PER_USER`` PDFs in progress (laid out or
  waiting); past that: ``429`` with ``Retry-After``, so one person's burst
  never fills the queue for everyone else;
- a layout taking more than ``RENDER_TIMEOUT_SECONDS`` is stopped (its
  process ended, the pool started afresh) and answered ``503``.

Admission is asked before the report is read, so a refused request records
no event and holds no database connection. ``make bench BENCH=pdf``
measures the memory of every server process before, during and after
twelve concurrent PDF requests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import AsyncIterator, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from server.platform.problems import ServiceUnavailable, TooManyRequests
from server.settings import Settings

if TYPE_CHECKING:
    from weasyprint.document import Document

__all__ = ["RENDER_TIMEOUT_SECONDS", "STATIC", "STYLESHEET", "PdfRenderer", "layout", "write_pdf"]

log = logging.getLogger("maca.reports")

SERVER: Final = Path(__file__).resolve().parent.parent
STATIC: Final = SERVER / "static" / "report"
STYLESHEET: Final = STATIC / "report.css"

# The longest report of the seed tools lays out in a few seconds on the
# 2-core machine the benchmarks run on; twenty times that is a layout that
# will not finish.
RENDER_TIMEOUT_SECONDS: Final = 60.0
# Until a layout has been timed, how long one is taken to take (for
# Retry-After).
FIRST_GUESS_SECONDS: Final = 2.0


def layout(html: str) -> Document:
    """The report's HTML laid out on A4 pages by WeasyPrint, with the page's
    own stylesheet (its @page rules put the marking in every page's header
    and footer)."""
    # Imported on first use: loading Pango takes a second, and only the
    # layout processes need it.
    from weasyprint import CSS, HTML

    return HTML(string=html, base_url=str(STATIC)).render(stylesheets=[CSS(filename=str(STYLESHEET))])


def write_pdf(html: str) -> bytes:
    """The PDF of ``html`` (what a layout process runs)."""
    # Tagged PDF/UA-1: headings, tables and reading order are in the file's
    # structure, so a screen reader reads the report as the page reads.
    pdf = layout(html).write_pdf(pdf_variant="pdf/ua-1")
    assert pdf is not None
    return cast("bytes", pdf)


class _Process:
    """One layout process (a one-worker ``ProcessPoolExecutor``, started
    when first needed), and how many PDFs it has laid out. Its own pool's
    ``max_tasks_per_child`` is not used: on Python 3.11 a pool recycling
    its worker that way hangs when work is queued behind the exiting one
    (CPython gh-115634), which is what a busy report page would do."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self.renders = 0

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # Spawned, not forked: a fork of a server process would copy its
            # event loop, its threads and its database connections.
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self.renders = 0
        return self._executor

    def retire(self, *, terminate: bool = False) -> None:
        """End the process (at once, when ``terminate``: it is stuck or
        broken); the next PDF starts a fresh one."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if terminate:
            # An executor cannot stop a task that is running: its process is
            # ended instead.
            processes: dict[int, Any] = getattr(executor, "_processes", None) or {}
            for process in list(processes.values()):
                with suppress(Exception):
                    process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)


class PdfRenderer:
    """Lays PDFs out in a bounded number of processes, admitting a bounded
    number of PDFs per person and in all (module docstring)."""

    def __init__(
        self,
        *,
        processes: int,
        renders_per_process: int,
        per_user: int,
        queue: int,
        timeout: float = RENDER_TIMEOUT_SECONDS,
    ) -> None:
        self.processes = processes
        self.renders_per_process = renders_per_process
        self.per_user = per_user
        self.queue = queue
        self.timeout = timeout
        self._all = [_Process() for _ in range(processes)]
        self._free: asyncio.Queue[_Process] | None = None
        self._in_progress = 0
        self._by_person: Counter[Hashable] = Counter()
        self._seconds_each = FIRST_GUESS_SECONDS

    @classmethod
    def for_settings(cls, settings: Settings) -> PdfRenderer:
        return cls(
            processes=settings.pdf_processes,
            renders_per_process=settings.pdf_renders_per_process,
            per_user=settings.pdf_per_user,
            queue=settings.pdf_queue,
        )

    @property
    def in_progress(self) -> int:
        return self._in_progress

    def _retry_after(self) -> dict[str, str]:
        """When a PDF asked now would likely be laid out: the queue ahead of
        it, at the pace layouts have gone."""
        seconds = self._seconds_each * (self._in_progress + 1) / self.processes
        return {"Retry-After": str(max(1, math.ceil(seconds)))}

    @asynccontextmanager
    async def admitted(self, person: Hashable) -> AsyncIterator[None]:
        """A place for one of ``person``'s PDFs, held for the block; 429 if
        they have their share in progress, 503 if Maca has as many as it
        lays out and queues."""
        if self._by_person[person] >= self.per_user:
            raise TooManyRequests(
                f"you already have {self._by_person[person]} PDFs being made; wait for them, then ask again",
                headers=self._retry_after(),
            )
        if self._in_progress >= self.processes + self.queue:
            raise ServiceUnavailable(
                "Maca is making as many PDFs as it can at once; try again shortly", headers=self._retry_after()
            )
        self._in_progress += 1
        self._by_person[person] += 1
        try:
            yield
        finally:
            self._in_progress -= 1
            self._by_person[person] -= 1
            if self._by_person[person] <= 0:
                del self._by_person[person]

    def _processes(self) -> asyncio.Queue[_Process]:
        if self._free is None:
            self._free = asyncio.Queue()
            for process in self._all:
                self._free.put_nowait(process)
        return self._free

    async def render(self, html: str) -> bytes:
        """The PDF of ``html``, laid out by the next free process (a wait
        bounded by admission: at most the queue ahead)."""
        free = self._processes()
        process = await free.get()
        try:
            started = time.monotonic()
            future = process.executor().submit(write_pdf, html)
            pdf = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            log.error("a PDF layout took more than %.0f s; its process is stopped", self.timeout)
            process.retire(terminate=True)
            raise ServiceUnavailable(
                "the PDF took too long to make; try again later", headers=self._retry_after()
            ) from None
        except BrokenProcessPool:
            log.error("a PDF layout process stopped unexpectedly; a fresh one takes its place")
            process.retire(terminate=True)
            raise ServiceUnavailable("the PDF could not be made; try again", headers=self._retry_after()) from None
        else:
            # Retry-After follows the pace of recent layouts.
            self._seconds_each = 0.8 * self._seconds_each + 0.2 * (time.monotonic() - started)
            process.renders += 1
            if process.renders >= self.renders_per_process:
                process.retire()  # memory WeasyPrint kept goes with the process
            return pdf
        finally:
            free.put_nowait(process)

    def close(self) -> None:
        """Stop every layout process (the application is stopping)."""
        for process in self._all:
            process.retire(terminate=True)
