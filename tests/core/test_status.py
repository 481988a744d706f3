"""The statuses: words that compare, print and serialise as themselves, and the exit codes."""

import json

from vgrad.core.status import EndStatus, ExitCode, NetState


def test_states_are_their_words_everywhere():
    assert NetState.RUNNING == "running" and NetState("diverged") is NetState.DIVERGED
    assert f"{NetState.PAUSED}" == str(NetState.PAUSED) == "paused"
    assert f"{EndStatus.INTERRUPTED:>12}" == " interrupted"
    assert json.dumps({"kind": NetState.DONE}) == '{"kind": "done"}'


def test_final_and_problem_states():
    assert {state for state in NetState if state.final} == {"done", "diverged", "error", "stopped", "interrupted"}
    assert {state for state in NetState if state.problem} == {"diverged", "error"}


def test_exit_codes_are_the_documented_ones():
    assert (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE, ExitCode.INTERRUPTED, ExitCode.CLOSED_PIPE) == (
        0, 1, 2, 130, 141)


def test_a_net_a_run_file_leaves_unfinished_is_interrupted_only_if_the_file_says_so():
    assert NetState.cut_short("interrupted") is NetState.INTERRUPTED
    assert NetState.cut_short("stopped") is NetState.STOPPED and NetState.cut_short(None) is NetState.STOPPED
