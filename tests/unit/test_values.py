"""The small immutable values keep what they had as dataclasses (issue 27 made them plain)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from httpdouble import Finding, Limits, LogEntry, Mismatch, Stamp, WaitingSettings
from httpdouble._log.request_log import Outcome
from httpdouble._report.findings import Kind


def _stamp() -> Stamp:
    return Stamp("test_x", None, "main", 1.5)


def test_a_stamp_compares_hashes_and_shows_every_field() -> None:
    assert _stamp() == Stamp("test_x", None, "main", 1.5)
    assert _stamp() != Stamp("test_y", None, "main", 1.5)
    assert hash(_stamp()) == hash(Stamp("test_x", None, "main", 1.5))
    assert repr(_stamp()) == "Stamp(test='test_x', after_test=None, worker='main', time=1.5)"
    assert _stamp() != ("test_x", None, "main", 1.5)


def test_a_value_refuses_assignment_and_deletion_as_a_frozen_dataclass_did() -> None:
    stamp = _stamp()
    with pytest.raises(dataclasses.FrozenInstanceError, match="'test'"):
        stamp.test = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del stamp.worker
    assert stamp.test == "test_x"


def test_a_value_pickles_copies_and_matches_by_position() -> None:
    stamp = _stamp()
    assert pickle.loads(pickle.dumps(stamp)) == stamp
    assert copy.copy(stamp) == stamp
    match stamp:
        case Stamp(test, after, worker, when):
            assert (test, after, worker, when) == ("test_x", None, "main", 1.5)
        case _:  # pragma: no cover - the case above must match
            pytest.fail("Stamp no longer matches by position")


def test_replace_returns_a_changed_copy_and_names_the_fields_on_a_typo() -> None:
    stamp = _stamp()
    assert stamp.replace(test=None, after_test="test_x") == Stamp(None, "test_x", "main", 1.5)
    assert stamp.test == "test_x"
    with pytest.raises(TypeError, match="no field tset; its fields: test, after_test"):
        stamp.replace(tset="x")


def test_a_finding_leaves_its_cause_out_of_equality_but_shows_it() -> None:
    one = Finding(Kind.ASSERTION, _stamp(), expected="x", cause=ValueError("a"))
    other = Finding(Kind.ASSERTION, _stamp(), expected="x", cause=None)
    assert one == other
    assert hash(one) == hash(other)
    assert "cause=ValueError('a')" in repr(one)


def test_a_mismatch_leaves_the_upstream_pair_out_of_equality_and_repr() -> None:
    with_pair = Mismatch("json", "1", "2", upstream=(2, 1))
    assert with_pair == Mismatch("json", "1", "2")
    assert repr(with_pair) == "Mismatch(field='json', expected='1', actual='2')"
    assert tuple(with_pair) == ("json", 2, 1)


def test_limits_and_waiting_settings_keep_their_defaults_and_checks() -> None:
    assert Limits() == Limits(8192, 100, 65536, 10 * 1024 * 1024)
    assert repr(Limits(max_body_bytes=16)).endswith("max_body_bytes=16)")
    with pytest.raises(Exception, match=r"Limits\(max_header_count=100\) \(the default\)"):
        Limits(max_header_count=0)
    assert WaitingSettings() == WaitingSettings(True, True, 5.0)
    assert {WaitingSettings(timeout=1.0), WaitingSettings(timeout=1.0)} == {
        WaitingSettings(timeout=1.0)
    }


def test_a_log_entry_compares_by_its_fields() -> None:
    response = object()
    one = LogEntry(None, response, Outcome.MALFORMED, _stamp())  # type: ignore[arg-type]
    assert one == LogEntry(None, response, Outcome.MALFORMED, _stamp())  # type: ignore[arg-type]
    assert one.replace(outcome=Outcome.MATCHED).outcome is Outcome.MATCHED
