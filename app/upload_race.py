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
Installed once per process, at this module's import, which Python's import lock serialises."""

from __future__ import annotations

import functools

from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

ANSWER = "file_urls_response"


def keep_upload_answers() -> None:
    """Make ForwardMsgQueue.clear keep the answers to upload requests; idempotent."""
    clear = ForwardMsgQueue.clear
    if getattr(clear, "keeps_upload_answers", False):
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
