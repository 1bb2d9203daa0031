"""Writes of the activities app, one import for views, admin, demo and other apps
(`from activities import services`). By domain:

- activities/services/events.py: activities, sign-ups, check-in and hours, photos, and the
  derived-contact rule (every change of attendance re-derives the activity's contacts);
- activities/services/attendance.py: attendance recorded after the event (day, hours, window);
- activities/services/plans.py: annual work plans, their items, the committee's date;
- activities/services/teams.py: teams at an activity, check-in and commendation by team;
- activities/services/volunteers.py: volunteer organisations and hours, commendations,
  entrepreneurship projects.
"""

from __future__ import annotations

from .attendance import attendance_record_late, late_attendance_check
from .events import (
    CHECKIN_CODE_CLOSES_AFTER,
    CHECKIN_OPENS_BEFORE,
    PHOTO_MAX_SIDE,
    activity_create,
    activity_from_needs,
    activity_update,
    checkin,
    checkin_by_code,
    checkin_undo,
    checkout,
    parse_hours,
    partner_get_or_create,
    photo_add,
    registration_confirm,
    registration_public,
    registration_remove,
    registrations_add,
)
from .plans import (
    plan_create,
    plan_deadline_set,
    plan_item_delete,
    plan_item_save,
    plan_submit,
    plan_update,
)
from .teams import team_checkin, team_commend, team_create, team_member_remove, team_members_add
from .volunteers import (
    commendation_create,
    project_save,
    support_add,
    volunteer_hours_decide,
    volunteer_hours_enter,
    volunteer_members_add,
    volunteer_organisation_create,
)

__all__ = [
    "CHECKIN_CODE_CLOSES_AFTER",
    "CHECKIN_OPENS_BEFORE",
    "PHOTO_MAX_SIDE",
    "activity_create",
    "activity_from_needs",
    "activity_update",
    "attendance_record_late",
    "checkin",
    "checkin_by_code",
    "checkin_undo",
    "checkout",
    "commendation_create",
    "late_attendance_check",
    "parse_hours",
    "partner_get_or_create",
    "photo_add",
    "plan_create",
    "plan_deadline_set",
    "plan_item_delete",
    "plan_item_save",
    "plan_submit",
    "plan_update",
    "project_save",
    "registration_confirm",
    "registration_public",
    "registration_remove",
    "registrations_add",
    "support_add",
    "team_checkin",
    "team_commend",
    "team_create",
    "team_member_remove",
    "team_members_add",
    "volunteer_hours_decide",
    "volunteer_hours_enter",
    "volunteer_members_add",
    "volunteer_organisation_create",
]
