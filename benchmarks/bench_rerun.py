"""Server CPU time and messages of one rerun of a page a student is on (α moved in the sidebar),
a baseline checkout and this tree, in alternation so that both see the same load. This is what
every click of every student costs once the page's figures exist: Streamlit's work for each
element the page draws, and the page's own code. Students speak Streamlit's protocol
(load_protocol.Student: no browser); CPU from each server's /proc/<pid>/stat (core-ms, 10 ms
ticks: the mean over a round of reruns), the median over the rounds; messages are the
ForwardMsgs the server sends for one rerun; ms is the wall-clock time from the student's request
until the run's last message arrived (one user, the browser's drawing aside: Nagle's 40 ms stalls
showed there, app/nodelay.py). The first rerun of each round's batch is the switch to
the page (the pages take turns), the same for both trees.

    git worktree add --detach /tmp/base <rev>
    .venv/bin/python benchmarks/bench_rerun.py /tmp/base [--rounds 5 --reruns 8] [--only new-photo ...]

The server's warm-up thread is off on both servers (MOBILENET_EXPLORER_WARM_UP=0); each page is
visited a few times first (the class's first builds happen once per server)."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_protocol as lp  # noqa: E402
from appdriver import ROOT  # noqa: E402
from bench_browser import TreeServer  # noqa: E402

# (name, URL path, model): what a class has open when the teacher moves α. The link's model is read
# on a session's first run only, so every page is measured on the model the student opened with.
PAGES = [
    ("Overview", "", "v3_large"),
    ("Charts", "charts", "v3_large"),
    ("Compare", "compare", "v3_large"),
    ("Classify", "classify", "v3_large"),
    ("SE lesson", "lesson-se", "v3_large"),
]
ALPHAS = ("0.5", "0.75", "1.0", "1.25")
# and Classify with a phone's photo classified, rerun without a move (a language, a switch
# elsewhere): what the page's pictures cost when nothing about them changed
PHONE_ROW = "Classify, a 12-megapixel photo shown (α not moved)"
# and the SE lesson on a learner's own phone photo (the lessons' drop zone), α moving
LESSON_PHONE_ROW = "SE lesson, the learner's 12-megapixel photo"
# and Classify (V2, untrained) given a photo no one uploaded before on each rerun: the upload, the
# decode, the classification, its pictures and chart (load_protocol --distinct-photos' upload)
NEW_PHOTO_ROW = "Classify, a new photo dropped (uploaded and classified)"
# --only: the rows' groups
PARTS = {"pages": [p for p, _, _ in PAGES], "phone": [PHONE_ROW], "lesson-phone": [LESSON_PHONE_ROW],
         "new-photo": [NEW_PHOTO_ROW]}  # fmt: skip


class Counting(lp.Student):
    """A student that counts the messages the server sends."""

    received = 0

    def connect(self) -> None:
        super().connect()
        recv = self.ws.recv

        def counted(timeout=None):
            raw = recv(timeout=timeout)
            self.received += 1
            return raw

        self.ws.recv = counted


def measured(
    server: TreeServer, cpu: float, received: int, start: float, n: int
) -> tuple[float, float, float]:
    """Per action: the server's core-ms, the messages it sent, and the wall-clock ms from the
    request until the run's last message was received (what one user waits for, the browser's
    drawing aside)."""
    wall = time.perf_counter() - start
    return 1000 * (lp.cpu_seconds(server.proc.pid) - cpu) / n, received / n, 1000 * wall / n


def reruns(
    server: TreeServer, student: Counting, path: str, model: str, n: int
) -> tuple[float, float, float]:
    """`n` reruns of the page, α moving: (server core-ms, messages, ms) per rerun."""
    cpu, received, start = lp.cpu_seconds(server.proc.pid), student.received, time.perf_counter()
    for i in range(n):
        student.rerun(f"model={model}&lang=en&alpha={ALPHAS[i % len(ALPHAS)]}", path)
    return measured(server, cpu, student.received - received, start, n)


def phone_photo(folder: Path) -> Path:
    """The bundled cat, as large as a phone's photo (4000x3000 JPEG)."""
    from PIL import Image

    path = folder / "phone.jpg"
    Image.open(lp.PHOTO).convert("RGB").resize((4000, 3000)).save(path, quality=90)
    return path


def classified_photo(server: TreeServer, photo: Path) -> Counting:
    """A student on Classify (V2 1.0) with the untrained network and `photo` classified."""
    student = Counting(server.url)
    student.connect()
    student.rerun("model=v2&lang=en")
    student.rerun(page="classify")
    student.set(lp.WORDS["use_untrained"], True)
    student.rerun()
    student.upload(lp.WORDS["upload_images"], photo)
    if len(student.top5_shown()) != 5:
        raise SystemExit(f"{server.url}: no top-5 for {photo.name}: {student.said()}")
    return student


def lesson_classified_photo(server: TreeServer, photo: Path) -> Counting:
    """A student on the SE lesson (V3-Large) with the phone's photo dropped into the lesson."""
    student = Counting(server.url)
    student.connect()
    student.rerun("model=v3_large&lang=en")  # the first run tells the pages' addresses
    student.rerun("model=v3_large&lang=en", "lesson-se")
    student.upload(lp.WORDS["ls_upload"], photo)
    if "exception" in student.said() or photo.name in student.said():  # a photo refused says its name
        raise SystemExit(f"{server.url}: the SE lesson with the phone's photo: {student.said()}")
    return student


def new_photos(server: TreeServer, student: Counting, n: int) -> tuple[float, float, float]:
    """`n` uploads of photos no one uploaded before, each replacing the last in Classify's drop
    zone: (server core-ms, messages, ms) per upload."""
    cpu, received, start = lp.cpu_seconds(server.proc.pid), student.received, time.perf_counter()
    for _ in range(n):
        student.upload(lp.WORDS["upload_images"], lp.photo(distinct=True))
    if len(student.top5_shown()) != 5:
        raise SystemExit(f"{server.url}: no top-5 for a new photo: {student.said()}")
    return measured(server, cpu, student.received - received, start, n)


def unmoved(server: TreeServer, student: Counting, n: int) -> tuple[float, float, float]:
    """`n` whole-page reruns of Classify with nothing changed: (server core-ms, messages, ms) per rerun."""
    cpu, received, start = lp.cpu_seconds(server.proc.pid), student.received, time.perf_counter()
    for _ in range(n):
        student.rerun("model=v2&lang=en&alpha=1.0", "classify")
    return measured(server, cpu, student.received - received, start, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", type=Path, help="another checkout of the app (a git worktree)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reruns", type=int, default=8, help="per round and page")
    parser.add_argument("--only", nargs="+", choices=list(PARTS), help="these rows only (default: all)")
    args = parser.parse_args()
    only = set(args.only or PARTS)
    env = {"MOBILENET_EXPLORER_OFFLINE": "1", "MOBILENET_EXPLORER_WARM_UP": "0"}
    servers = {"baseline": TreeServer(args.baseline, env), "now": TreeServer(ROOT, env)}
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    rows = [row for part, part_rows in PARTS.items() if part in only for row in part_rows]
    got = {(name, page): [] for name in servers for page in rows}
    students, phones, lessons, droppers = {}, {}, {}, {}
    folder = Path(tempfile.mkdtemp(prefix="bench_rerun_"))
    photo = phone_photo(folder)
    try:
        for name, server in servers.items():
            student = students[name] = Counting(server.url)
            student.connect()
            for _page, path, model in PAGES if "pages" in only else []:
                if path and path not in student.pages:
                    student.rerun(f"model={model}&lang=en")
                    if path not in student.pages:  # an unknown name would rerun the Overview instead
                        raise SystemExit(f"{server.url} has no page {path!r}")
                reruns(server, student, path, model, 4)  # the first builds and draws: not counted
            if "phone" in only:
                phones[name] = classified_photo(server, photo)
                unmoved(server, phones[name], 2)
            if "lesson-phone" in only:
                lessons[name] = lesson_classified_photo(server, photo)
                reruns(server, lessons[name], "lesson-se", "v3_large", 4)
            if "new-photo" in only:
                droppers[name] = classified_photo(server, lp.photo(distinct=True))
                new_photos(server, droppers[name], 2)
        for _ in range(args.rounds):
            for page, path, model in PAGES if "pages" in only else []:
                for name, server in servers.items():
                    got[name, page].append(reruns(server, students[name], path, model, args.reruns))
            for name, server in servers.items():
                if "phone" in only:
                    got[name, PHONE_ROW].append(unmoved(server, phones[name], args.reruns))
                if "lesson-phone" in only:
                    lesson = reruns(server, lessons[name], "lesson-se", "v3_large", args.reruns)
                    got[name, LESSON_PHONE_ROW].append(lesson)
                if "new-photo" in only:
                    got[name, NEW_PHOTO_ROW].append(new_photos(server, droppers[name], args.reruns))
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print("\none rerun of the page a student is on (α moved, unless the row says otherwise): server core-ms")
    print(f"(median of {args.rounds} rounds of {args.reruns}), messages sent; baseline = {args.baseline},"
          " now = this tree\n")  # fmt: skip
    print("| page | core-ms baseline | core-ms now | ratio | messages baseline | messages now"
          " | ms baseline | ms now | ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for page in rows:
        cpu, sent, wall = (
            {n: statistics.median(m[i] for m in got[n, page]) for n in servers} for i in range(3)
        )
        ratio, faster = (d["baseline"] / max(d["now"], 1e-9) for d in (cpu, wall))
        print(f"| {page} | {cpu['baseline']:.1f} | {cpu['now']:.1f} | {ratio:.2f}x"
              f" | {sent['baseline']:.0f} | {sent['now']:.0f}"
              f" | {wall['baseline']:.0f} | {wall['now']:.0f} | {faster:.2f}x |")  # fmt: skip
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
