"""A photo dropped while the page reruns is not lost (app/upload_race.py).

The browser asks where to upload a file (file_urls_request) and waits for the answer; Streamlit
clears a session's outgoing queue when a run starts, and an answer queued just before was cleared
with it: the drop zone stayed empty. Measured before the fix with the protocol test below: 1 of 20
answered."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

import app.upload_race  # noqa: F401 - installs the fix, as app/main.py does

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def _answer(request_id: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.file_urls_response.response_id = request_id
    return msg


def _delta() -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = [0, 0]
    msg.delta.new_element.markdown.body = "from the run before"
    return msg


def test_the_patched_method_is_the_one_the_fix_was_written_for():
    """Pins the private signature: a Streamlit release that changes it fails here, loudly, and the
    fix refuses to install on it (compatible() is False) instead of breaking every run start."""
    import inspect

    import streamlit

    from app.upload_race import TESTED_PARAMETERS, TESTED_RELEASES, compatible

    original = ForwardMsgQueue.clear.__wrapped__
    assert tuple(inspect.signature(original).parameters) == TESTED_PARAMETERS
    assert streamlit.__version__.startswith(TESTED_RELEASES)
    assert "_queue" in ForwardMsgQueue().__dict__
    assert ForwardMsgQueue.clear.keeps_upload_answers  # installed on this release

    def renamed(self, retain_lifecycle=False):
        pass

    assert not compatible(renamed, streamlit.__version__)
    assert not compatible(original, "1.68.0")


def test_an_upload_answer_queued_when_a_run_starts_is_sent_once():
    queue = ForwardMsgQueue()
    queue.enqueue(_delta())
    queue.enqueue(_answer("r1"))
    queue.clear(retain_lifecycle_msgs=True)  # what a session does when a script run starts
    sent = queue.flush()
    assert [m.WhichOneof("type") for m in sent] == ["file_urls_response"]  # the old delta goes
    assert sent[0].file_urls_response.response_id == "r1"
    assert queue.flush() == []  # sent once, not again on every flush


def _answered(student, request_id: str, seconds: float = 10) -> bool:
    """Whether the answer to `request_id` arrives within `seconds`; reads on until the run has
    finished, so that the next try starts from an idle session."""
    got, finished, deadline = False, False, time.time() + seconds
    while not (got and finished) and time.time() < deadline:
        try:
            raw = student.ws.recv(timeout=max(deadline - time.time(), 0.01))
        except TimeoutError:
            break
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "file_urls_response" and msg.file_urls_response.response_id == request_id:
            got = True
        if kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            finished = True
    return got


def test_every_upload_asked_for_during_a_rerun_is_answered():
    """A real server; each time, a rerun and an upload request are sent back to back, as the
    browser does when a photo is dropped just after a click."""
    import load_protocol as lp
    from appdriver import Server

    server = Server(env={"MOBILENET_EXPLORER_OFFLINE": "1"})
    try:
        student = lp.Student(server.url)
        student.connect()
        student.rerun(page="classify")
        answered = []
        for _ in range(10):
            rerun = BackMsg()
            rerun.rerun_script.page_script_hash = student.page_hash
            student.ws.send(rerun.SerializeToString())
            answered.append(_answered(student, student.ask_upload_urls("cat.png")))
        student.close()
    finally:
        log = server.stop()
    assert answered == [True] * 10, answered
    assert "Traceback" not in log, log[-2000:]
