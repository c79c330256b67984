"""The shared step runner: rounds of batched steps, as both remote providers walk them."""

from __future__ import annotations

from reconciler.changes import Change
from reconciler.providers.steps import Step, StepRounds, Unsupported


def change(key: str) -> Change:
    return Change(action="create", kind="user", key=key, after={"email": key})


def steps_of(change: Change) -> list[Step[str]]:
    """a: two steps; b: one step that the service refuses; c: cannot be made at all;
    d: its second step finds out it cannot be made."""
    name = change.key[0]
    if name == "c":
        raise Unsupported("c cannot be made here")

    def second_of_d() -> list[str]:
        raise Unsupported("d's second step is not possible")

    return {"a": [lambda: ["a1", "a1b"], lambda: ["a2"]], "b": [lambda: ["b1"]],
            "d": [lambda: ["d1"], second_of_d]}[name]


def test_each_round_batches_every_live_change_and_a_failure_ends_its_change() -> None:
    wave = [change("a@x.com"), change("b@x.com"), change("c@x.com"), change("d@x.com")]
    rounds = StepRounds(wave, steps_of)
    sent: list[list[tuple[int, str]]] = []
    while batch := rounds.next_round():
        sent.append(batch)
        for i, call in batch:
            if call == "b1":
                rounds.fail(i, "409 duplicate")
                rounds.fail(i, "a later error does not replace the first")
    assert sent == [[(0, "a1"), (0, "a1b"), (1, "b1"), (3, "d1")], [(0, "a2")]]
    assert [(r.change.key, r.outcome, r.error, r.code) for r in rounds.results()] == [
        ("a@x.com", "applied", None, None),
        ("b@x.com", "failed", "409 duplicate", "provider-refused"),
        ("c@x.com", "failed", "c cannot be made here", "unsupported"),
        ("d@x.com", "failed", "d's second step is not possible", "unsupported"),
    ]
