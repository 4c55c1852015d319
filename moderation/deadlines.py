"""Follow-up deadlines by the rules in force. A session chooses a rule set (Hải Phòng by default); each
rule says what the asker can expect next, within how many days (calendar or working days), counted
from which event, and which article it comes from. `due` computes the last day with the calendar
(moderation/calendar.py: a last day off moves to the next working day, Điều 148.5).

The clock of a rerouted question does not restart: the period runs from the close (or the receipt,
or the notice) whichever unit holds the question; an extension is the head's, with a reason the
asker is told."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from .calendar import Calendar, end_of_day, local_date


class Counting(enum.StrEnum):
    DAYS = "days"  # calendar days; a last day off moves to the next working day
    WORKING_DAYS = "working_days"


class From(enum.StrEnum):
    CLOSE = "close"  # the session's close
    RECEIPT = "receipt"  # the question's receipt (the standing forum)
    NOTICE = "notice"  # the conclusions notice (Hà Nam)


@dataclass(frozen=True)
class Rule:
    key: str  # "<rule set>.<step>", stored in questions.due_rule
    step: str  # what the asker can expect: forward | written_answer | notice | unit_answer | forum_answer
    days: int
    counting: Counting
    start: From
    source: str  # the article it comes from, shown beside the date

    def due(self, calendar: Calendar, start: date) -> date:
        if self.counting is Counting.WORKING_DAYS:
            return calendar.after_working_days(start, self.days)
        return calendar.after_days(start, self.days)


@dataclass(frozen=True)
class RuleSet:
    name: str
    source: str
    forward: Rule | None  # outside the chair's remit: sent on to the competent unit
    answer: Rule  # within remit, not answered live: the written answer
    notice: Rule | None = None  # Hà Nam: the conclusions notice that starts the units' clock
    extendable: bool = True


HP = "QĐ 1374/2016/QĐ-UBND (Hải Phòng), Điều 10.4"
HN = "Quy chế đối thoại trực tiếp (Hà Nam, 2018)"
HUE = "QĐ 1834/2013/QĐ-UBND (Thừa Thiên Huế)"

RULE_SETS: dict[str, RuleSet] = {
    "hai_phong": RuleSet(
        "hai_phong", HP,
        forward=Rule("hai_phong.forward", "forward", 3, Counting.DAYS, From.CLOSE, HP),
        answer=Rule("hai_phong.written_answer", "written_answer", 15, Counting.DAYS, From.CLOSE, HP),
    ),
    "ha_nam": RuleSet(
        "ha_nam", HN,
        forward=None,
        notice=Rule("ha_nam.notice", "notice", 5, Counting.WORKING_DAYS, From.CLOSE, HN),
        answer=Rule("ha_nam.unit_answer", "unit_answer", 10, Counting.WORKING_DAYS, From.NOTICE, HN),
    ),
    "hue_forum": RuleSet(
        "hue_forum", HUE,
        forward=None,
        answer=Rule("hue_forum.forum_answer", "forum_answer", 5, Counting.WORKING_DAYS, From.RECEIPT, HUE),
    ),
}
DEFAULT_RULE_SET = "hai_phong"
RULES: dict[str, Rule] = {r.key: r for rs in RULE_SETS.values()
                          for r in (rs.forward, rs.answer, rs.notice) if r is not None}


def rule_set(name: str | None) -> RuleSet:
    return RULE_SETS.get(name or DEFAULT_RULE_SET) or RULE_SETS[DEFAULT_RULE_SET]


@dataclass(frozen=True)
class Due:
    rule: Rule
    start: date
    on: date

    @property
    def values(self) -> dict[str, object]:
        """The question's columns for this deadline."""
        return {"due_rule": self.rule.key, "due_from": self.start, "due_on": self.on}


def answer_rule(rules: RuleSet, notice_issued: bool) -> Rule:
    """Hà Nam's units count from the notice; until it is issued the next step is the notice itself."""
    if rules.notice is not None and not notice_issued:
        return rules.notice
    return rules.answer


def follow_up(rules: RuleSet, calendar: Calendar, *, forwarded: bool, start: date, notice_issued: bool = False,
              notice_day: date | None = None) -> Due:
    """The deadline of a question that needs follow-up: forwarded (outside the chair's remit) or to be
    answered in writing. `start` is the day of the event the rule counts from (close or receipt)."""
    rule = rules.forward if forwarded and rules.forward is not None else answer_rule(rules, notice_issued)
    begin = notice_day if rule.start is From.NOTICE and notice_day is not None else start
    return Due(rule, begin, rule.due(calendar, begin))


def stored(question: object) -> Due | None:
    """The deadline a question carries (its due_* columns), or None."""
    key, on = getattr(question, "due_rule", None), getattr(question, "due_on", None)
    if key not in RULES or on is None:
        return None
    start = getattr(question, "due_from", None) or on
    return Due(RULES[key], start, on)


def standing(due_on: date, done_at: datetime | None, as_of: datetime) -> str:
    """met | missed (done by the end of the last day, Vietnam time, or after it) | overdue (not done,
    that end has passed) | open: the one rule the receipt, the deadline lists and the reports read."""
    if done_at is not None:
        return "met" if local_date(done_at) <= due_on else "missed"
    return "overdue" if as_of >= end_of_day(due_on) else "open"


def met(question: object) -> bool | None:
    """Whether its step was done by the end of its last day (Vietnam time); None while not done."""
    done, on = getattr(question, "due_done_at", None), getattr(question, "due_on", None)
    if done is None or on is None:
        return None
    return standing(on, done, done) == "met"
