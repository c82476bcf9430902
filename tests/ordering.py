"""The order tests are handed to xdist's workers in: the long ones first, spread out.

`--dist worksteal` gives each worker one contiguous slice of the collected tests, and a
worker that runs dry takes the *end* of another's slice. A long test near the end of a
slice (the collection is alphabetical: test_voice_*) starts last and keeps the whole run
waiting for it, alone. So each slice here begins with its share of the long tests (the
longest first, each slice given the next one while it holds the fewest seconds of them),
and the other tests follow in their collected order. Only the order changes: every test
still runs, on one worker as before.

LONG holds about what `pytest --durations` measures on a quiet 2-core machine, in seconds
(the order is all it changes); a test missing from it only starts where it was collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

LONG = {
    "tests/test_faults.py::test_database_locked_by_another_process_for_30_s": 31,
    "tests/test_benchmarks.py::test_benchmark_runs_in_quick_mode[bench_voice]": 24,
    "tests/test_benchmarks.py::test_benchmark_runs_in_quick_mode[bench_crisis]": 19,
    "tests/test_voice_checkin.py::test_speak_press_speaks_then_listens_saves_and_undo_deletes": 19,
    "tests/test_voice_e2e.py::test_the_same_speech_through_transcribe_reflect_audio_and_the_microphone": 17,  # noqa: E501
    "tests/test_voice_e2e.py::test_at_a_terminal_redo_listens_again_and_keep_saves": 12,
    "tests/test_voice_checkin.py::test_auto_mode_listens_when_the_check_in_fires_and_crisis_words_bring_resources": 16,  # noqa: E501
    "tests/test_faults.py::test_notification_server_that_vanishes_and_returns": 16,
    "tests/test_faults.py::test_the_session_bus_gone_and_back": 16,
    "tests/test_faults.py::test_disk_fills_while_the_daemon_runs": 15,
    "tests/test_durability.py::test_sigkill_while_writing_loses_nothing_acknowledged": 14,
    "tests/test_encryption.py::test_sigkill_during_decrypt_never_leaves_a_plain_copy_behind": 14,
    "tests/test_benchmarks.py::test_benchmark_runs_in_quick_mode[bench_speech]": 10,
    "tests/test_benchmarks.py::test_benchmark_runs_in_quick_mode[bench_daemon]": 13,
    "tests/test_encryption.py::test_sigkill_during_encrypt_and_decrypt_loses_nothing": 12,
    "tests/test_voice_e2e.py::test_nobody_speaking_saves_nothing": 12,
    "tests/test_voice_e2e.py::test_stereo_44k_and_flac_recordings_are_heard_too": 12,
    "tests/test_crisis_match.py::test_passing_over_patterns_by_their_second_word_never_loses_a_match": 11,  # noqa: E501
    "tests/test_daemon.py::test_a_notification_service_started_after_the_daemon_shows_the_next_check_in": 10,  # noqa: E501
    "tests/test_faults.py::test_disk_full_keeps_a_reflection_and_saves_it_later": 10,
    "tests/test_benchmarks.py::test_benchmark_runs_in_quick_mode[bench_durability]": 10,
    "tests/test_voice_e2e.py::test_the_same_speech_through_transcribe_and_reflect_audio": 10,
    "tests/test_faults.py::test_cli_save_while_the_database_is_held_is_set_aside": 9,
}

T = TypeVar("T")


def slice_sizes(count: int, workers: int) -> list[int]:
    """How many tests each worker is first given (as xdist's worksteal scheduler splits)."""
    sizes, left = [], count
    for remaining in range(workers, 0, -1):
        sizes.append(left // remaining)
        left -= sizes[-1]
    return sizes


def arrange(items: Sequence[T], names: Sequence[str], workers: int) -> list[T]:
    """`items` (named `names`) reordered so that each worker's slice starts with its share
    of the LONG tests; the order of everything else is kept."""
    if workers < 2:
        return list(items)
    long = sorted(
        (i for i, name in enumerate(names) if name in LONG), key=lambda i: -LONG[names[i]]
    )
    heads: list[list[int]] = [[] for _ in range(workers)]
    seconds = [0] * workers
    for i in long:
        fewest = min(range(workers), key=lambda w: (seconds[w], len(heads[w])))
        heads[fewest].append(i)
        seconds[fewest] += LONG[names[i]]
    taken = set(long)
    rest = iter(i for i in range(len(items)) if i not in taken)
    order: list[int] = []
    for head, size in zip(heads, slice_sizes(len(items), workers), strict=True):
        order += head
        order += [next(rest) for _ in range(max(0, size - len(head)))]
    order += list(rest)
    return [items[i] for i in order]
