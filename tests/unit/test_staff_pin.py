"""The staff PIN's throttle: wrong PINs counted, the lock-out, its countdown, its doubling and its reset."""

from __future__ import annotations

from kiosk.staff import FREE_TRIES, LOCKOUT_S, MAX_LOCKOUT_S, PinThrottle
from tests.support.clock import ManualClock


def _wrong(throttle: PinThrottle, times: int) -> None:
    for _ in range(times):
        assert throttle.take_try(), "a try was refused before the lock-out"


def test_four_wrong_pins_do_not_lock() -> None:
    throttle = PinThrottle(ManualClock())
    _wrong(throttle, FREE_TRIES - 1)
    assert throttle.seconds_left() == 0 and throttle.wrong_in_a_row == FREE_TRIES - 1
    assert throttle.take_try()


def test_the_fifth_wrong_pin_locks_for_a_minute_counting_down() -> None:
    clock = ManualClock()
    throttle = PinThrottle(clock)
    _wrong(throttle, FREE_TRIES)
    assert LOCKOUT_S == 60
    assert throttle.seconds_left() == 60
    assert not throttle.take_try(), "no PIN is checked during a lock-out"
    clock.advance(0.5)
    assert throttle.seconds_left() == 60, "rounded up: 59.5 s left shows as 60"
    clock.advance(19.5)
    assert throttle.seconds_left() == 40
    assert not throttle.take_try()
    clock.advance(39.9)
    assert throttle.seconds_left() == 1 and not throttle.take_try()
    clock.advance(0.1)
    assert throttle.seconds_left() == 0
    assert throttle.take_try(), "the lock-out is over"


def test_tries_refused_during_a_lock_out_do_not_lengthen_it() -> None:
    clock = ManualClock()
    throttle = PinThrottle(clock)
    _wrong(throttle, FREE_TRIES)
    for _ in range(20):
        assert not throttle.take_try()
    assert throttle.wrong_in_a_row == FREE_TRIES and throttle.seconds_left() == 60


def test_each_wrong_pin_after_a_lock_out_doubles_it_up_to_the_cap() -> None:
    clock = ManualClock()
    throttle = PinThrottle(clock)
    _wrong(throttle, FREE_TRIES)
    seen = [throttle.seconds_left()]
    for _ in range(6):
        clock.advance(seen[-1])
        assert throttle.take_try()
        seen.append(throttle.seconds_left())
    assert MAX_LOCKOUT_S == 960
    assert seen == [60, 120, 240, 480, 960, 960, 960]


def test_a_right_pin_clears_the_count_and_the_lock_out() -> None:
    clock = ManualClock()
    throttle = PinThrottle(clock)
    _wrong(throttle, FREE_TRIES)
    clock.advance(60)
    assert throttle.take_try()  # the sixth try: counted as wrong until it is known to be right
    assert throttle.seconds_left() == 120
    throttle.right()
    assert throttle.seconds_left() == 0 and throttle.wrong_in_a_row == 0
    _wrong(throttle, FREE_TRIES - 1)
    assert throttle.seconds_left() == 0, "after a right PIN the count starts again from zero"


def test_a_try_counts_as_wrong_while_it_is_checked() -> None:
    """PINs typed while a slow check runs cannot slip past the count: the fifth try locks at once, and a
    right answer to it lifts the lock."""
    throttle = PinThrottle(ManualClock())
    _wrong(throttle, FREE_TRIES - 1)
    assert throttle.take_try()  # the fifth, still being checked
    assert not throttle.take_try(), "a sixth PIN typed meanwhile is not checked"
    throttle.right()  # the fifth was right after all
    assert throttle.seconds_left() == 0 and throttle.take_try()
