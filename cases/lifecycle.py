"""A case's lifecycle: review, confirm or dismiss, close, reopen, assign — each step named, reasoned, audited.

`open → under_review → confirmed | dismissed`; a confirmed case is `closed` (once its actions are
resolved: actions arrive with referrals and orders), a dismissed or closed one can be reopened with
a reason. A step that is not allowed is refused with the steps that are (`CaseError`), and nothing
changes. Confirming and dismissing record a verdict per rule (`RuleVerdict`): what `rules stats`
counts, so rule authors see which rules raise false alarms. Every step is a `CaseDecision` row and
an audit event in the hash-chained log, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.model import FLAGGING_SEVERITIES
from storage.audit import record_event
from storage.models import Case, CaseDecision, CorrectionOrder, Finding, Referral, RuleVerdict, utcnow

STATUSES = ("open", "under_review", "confirmed", "dismissed", "closed")
ACTIVE = ("open", "under_review", "confirmed")  # a site with an active case gets no second one

# action → (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "review": (("open",), "under_review"),
    "confirm": (("under_review",), "confirmed"),
    "dismiss": (("under_review",), "dismissed"),
    "close": (("confirmed",), "closed"),
    "reopen": (("dismissed", "closed"), "open"),
}
REASON_REQUIRED = ("dismiss", "reopen", "close")


class CaseError(Exception):
    """A case action that cannot be done as asked; the message says why and what can be done."""


@dataclass(frozen=True)
class Step:
    case_id: int
    action: str
    from_status: str
    to_status: str


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case {case_id}")
    return case


def flagging_findings(session: Session, case: Case) -> list[Finding]:
    """The medium-or-higher findings on the case's site (what put it on the list), oldest first."""
    return list(session.scalars(select(Finding).where(Finding.site_id == case.site_id,
                                                      Finding.severity.in_(FLAGGING_SEVERITIES))
                                .order_by(Finding.id)))


def flagging_rules(session: Session, case: Case) -> list[str]:
    """The rules of the case's flagging findings."""
    return sorted({f.rule_id for f in flagging_findings(session, case)})


def dismissed_rules(session: Session, case_id: int) -> set[str]:
    return set(session.scalars(select(RuleVerdict.rule_id).where(RuleVerdict.case_id == case_id,
                                                                 RuleVerdict.verdict == "dismissed")))


def unresolved_actions(session: Session, case_id: int) -> list[str]:
    """The case's actions still under way (referrals not closed, orders not decided by a re-check): a case
    closes only when all are resolved."""
    referrals = [f"referral {rid} ({status})" for rid, status in session.execute(
        select(Referral.id, Referral.status).where(Referral.case_id == case_id, Referral.status != "closed"))]
    orders = [f"order {oid} (due {deadline})" for oid, deadline in session.execute(
        select(CorrectionOrder.id, CorrectionOrder.deadline).where(CorrectionOrder.case_id == case_id,
                                                                    CorrectionOrder.status == "open"))]
    return referrals + orders


def act(session: Session, case_id: int, action: str, *, actor: str, reason: str = "",
        rules: Sequence[str] = ()) -> Step:
    """Take `action` on case `case_id`. `rules`: for confirm/dismiss, the rules the verdict is about
    (default: every flagging rule of the case); a rule not among them is refused."""
    if action not in TRANSITIONS:
        raise CaseError(f"unknown action {action!r}; actions: {', '.join(TRANSITIONS)}")
    case = get_case(session, case_id)
    sources, target = TRANSITIONS[action]
    if case.status not in sources:
        possible = allowed_actions(case.status)
        raise CaseError(f"case {case_id} is {case.status}: cannot {action} it (needs {' or '.join(sources)}); "
                        f"from {case.status}: {', '.join(possible) or 'no action'}")
    reason = " ".join(reason.split())
    if action in REASON_REQUIRED and not reason:
        raise CaseError(f"{action} needs a reason (--reason)")
    if action == "close" and (pending := unresolved_actions(session, case_id)):
        raise CaseError(f"case {case_id} has actions not resolved yet: {', '.join(pending)}; close them first")
    verdict_rules: list[str] = []
    if action in ("confirm", "dismiss"):
        known = flagging_rules(session, case)
        unknown = sorted(set(rules) - set(known))
        if unknown:
            raise CaseError(f"case {case_id} has no flagging finding of {', '.join(unknown)}; "
                            f"its rules: {', '.join(known) or 'none'}")
        verdict_rules = list(rules) or known
        verdict = "confirmed" if action == "confirm" else "dismissed"
        for rule_id in verdict_rules:
            session.add(RuleVerdict(case_id=case_id, rule_id=rule_id, verdict=verdict, actor=actor, reason=reason))
    step = Step(case_id, action, case.status, target)
    record_step(session, case, step, actor=actor, reason=reason,
                details={"rules": verdict_rules} if verdict_rules else {})
    return step


def assign(session: Session, case_id: int, assignee: str, *, actor: str) -> Step:
    case = get_case(session, case_id)
    if case.status == "closed":
        raise CaseError(f"case {case_id} is closed: reopen it before assigning it")
    assignee = assignee.strip()
    if not assignee:
        raise CaseError("assign needs a user (--to)")
    before = case.assignee
    case.assignee = assignee
    step = Step(case_id, "assign", case.status, case.status)
    record_step(session, case, step, actor=actor, reason=f"assigned to {assignee}",
            details={"from": before, "to": assignee})
    return step


def record_step(session: Session, case: Case, step: Step, *, actor: str, reason: str, details: dict) -> None:  # type: ignore[type-arg]
    """Write a step: the case's new status, a decision row and an audit event (also for steps that leave
    the status as it is: assignment, re-check)."""
    case.status = step.to_status
    case.updated_at = utcnow()
    session.add(CaseDecision(case_id=case.id, actor=actor, action=step.action, from_status=step.from_status,
                             to_status=step.to_status, reason=reason))
    record_event(session, actor=actor, action=f"case_{step.action}", subject=f"case:{case.id}",
                 details={"from": step.from_status, "to": step.to_status, "reason": reason, **details})
    session.flush()  # the version check: a concurrent change to the case makes this raise StaleDataError
