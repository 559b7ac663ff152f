"""A photo dropped while the page is rerunning must not be lost.

How an upload works: the browser asks the session, over the websocket, where to send the file
(a `file_urls_request`); the session queues its answer (`file_urls_response`) for the next flush;
the browser then sends the file over HTTP and reruns the script with it. When a script run starts,
Streamlit (1.67, the newest release) clears the session's outgoing queue, keeping only lifecycle
messages. An answer queued between the request for that run and its start is cleared with the
rest, and the browser waits for it forever: the drop zone stays empty, with no message.

Seen in benchmarks/load.py: a photo dropped just after a click that reruns the page was lost in
6 of 24 sessions (eight at once, three rounds), each time after a `file_urls_request` that got no
answer. tests/test_upload_race.py reproduces the clear directly.

`keep_upload_answers()` wraps `ForwardMsgQueue.clear` so that these answers survive it (they
belong to no script run). Thread safety: the clear and the answers run on the server's event
loop thread (a run's start is handled there, and so are the browser's requests); the script thread
only appends deltas to the queue, and appending an answer after them moves none of their indices.
Installed once per process, at this module's import, which Python's import lock serialises.

It patches a private method, so it installs only on the Streamlit it was tested on: a release in
TESTED_RELEASES whose `clear` still has the parameters below and whose queue is still `_queue`
(pyproject.toml pins that range; tests/test_upload_race.py pins the signature). On any other
Streamlit it logs a warning and installs nothing: the race comes back, every run start still works.

Upstream report (to file at github.com/streamlit/streamlit; same family as #17030, where
`clear(retain_lifecycle_msgs=True)` drops `heartbeat_ack`):
  Title: A file_urls_response queued just before a rerun starts is dropped; the upload never starts.
  Streamlit 1.67.0. Steps: in an app with st.file_uploader, click a button that reruns the script
  and drop a file into the uploader right after. The browser sends a file_urls_request; the
  session enqueues the file_urls_response; the rerun's start calls
  ForwardMsgQueue.clear(retain_lifecycle_msgs=True), which keeps only lifecycle messages, so the
  response is removed before the next flush. The browser waits for it forever and the uploader
  stays empty with no message. Measured: 1 of 20 back-to-back rerun + upload-request pairs answered.
  Expected: answers to requests from the browser (file_urls_response, like heartbeat_ack) survive
  the clear at a run's start. Workaround: this module."""

from __future__ import annotations

import functools
import inspect
import logging

import streamlit
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

ANSWER = "file_urls_response"
TESTED_RELEASES = ("1.67.",)
TESTED_PARAMETERS = ("self", "retain_lifecycle_msgs", "fragment_ids_this_run")
_log = logging.getLogger(__name__)


def compatible(clear, version: str) -> bool:
    """Whether `clear` is the method this fix was written for, on a tested release."""
    parameters = tuple(inspect.signature(clear).parameters)
    return version.startswith(TESTED_RELEASES) and parameters == TESTED_PARAMETERS


def keep_upload_answers() -> None:
    """Make ForwardMsgQueue.clear keep the answers to upload requests; idempotent."""
    clear = ForwardMsgQueue.clear
    if getattr(clear, "keeps_upload_answers", False):
        return
    if not compatible(clear, streamlit.__version__) or "_queue" not in ForwardMsgQueue().__dict__:
        _log.warning(
            "Streamlit %s is not a release the upload fix was tested on (%s): not installed, so a "
            "photo dropped during a rerun can be lost again",
            streamlit.__version__,
            ", ".join(TESTED_RELEASES),
        )
        return

    @functools.wraps(clear)
    def clear_keeping_upload_answers(self, retain_lifecycle_msgs=False, fragment_ids_this_run=None):
        # flush() clears everything (retain_lifecycle_msgs=False) after taking the messages out to
        # send them: only the clear at the start of a run must keep the answers
        answers = [m for m in self._queue if m.WhichOneof("type") == ANSWER] if retain_lifecycle_msgs else []
        clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
        for answer in answers:
            if all(answer is not kept for kept in self._queue):
                self._queue.append(answer)

    clear_keeping_upload_answers.keeps_upload_answers = True
    ForwardMsgQueue.clear = clear_keeping_upload_answers


keep_upload_answers()
