"""Class 9: an `up` killed while it recreates a service (SIGKILL at a fail point, as a
power cut or a closed SSH session would) leaves the old container set aside; the next
`up` or `down` heals it: no `-replaced-` copy stays, the stack runs as it should."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.engine


def killed_while_recreating(stack: Any, point: str) -> None:
    """`up` once, then a change that recreates LiveKit, and an `up` killed at `point`."""
    assert stack.nasrtc("up").code == 0
    stack.set_answer("ports", "rtc_tcp", free_port())
    killed = stack.nasrtc("up", env={"NASRTC_FAILPOINT": point})
    assert killed.code == -9, (killed.code, killed.out, killed.err)
    assert any("-replaced-" in name for name in stack.containers()), \
        f"the kill left an old container aside: {sorted(stack.containers())}"


@pytest.mark.parametrize("point", ["up.set-aside", "up.before-commit"])
def test_the_next_up_heals_an_up_killed_while_it_recreated(make_stack: Any,
                                                            point: str) -> None:
    stack = make_stack()
    killed_while_recreating(stack, point)
    said = stack.nasrtc("status")
    assert "an interrupted `nasrtc up` left" in said.out and "-replaced-" in said.out, said.out
    healed = stack.nasrtc("up")
    assert healed.code == 0, healed.out + healed.err
    assert "an interrupted `up`" in healed.out
    names = sorted(stack.containers())
    assert names == [f"{stack.project}-jwt-1", f"{stack.project}-livekit-1"], names
    assert all(c.status == "running" for c in stack.containers().values())
    again = stack.nasrtc("up")
    assert "nothing was recreated" in again.out, again.out


def test_down_takes_the_copy_an_interrupted_up_left(make_stack: Any) -> None:
    stack = make_stack()
    killed_while_recreating(stack, "up.set-aside")
    down = stack.nasrtc("down")
    assert down.code == 0, down.err
    assert stack.containers() == {}, "no -replaced- copy stays behind"
