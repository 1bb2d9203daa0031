"""Pages of the activities app: thin views over activities.selectors and activities.services,
one module per domain (activities/urls.py names every view from here):

- activity.py: the list and calendar, one activity, create / edit / plan from needs, photos;
- registration.py: signing youths up, the check-in list and its row actions;
- attendance.py: attendance recorded after the event;
- plans.py: annual work plans (the subtree's year, one plan, items, history);
- teams.py: teams at an activity (members, check-in and commendation by team);
- public.py: the sign-up link and the venue check-in code (no login, rate-limited);
- volunteers.py: volunteer organisations and hours, a youth's record, commendations;
- projects.py: entrepreneurship projects.
"""

from __future__ import annotations

from .activity import (
    ActivityListView,
    activity_create,
    activity_detail,
    activity_edit,
    activity_from_needs,
    photo_upload,
)
from .attendance import late_attendance
from .plans import (
    plan_create,
    plan_deadline,
    plan_detail,
    plan_history,
    plan_index,
    plan_item_delete,
    plan_item_edit,
    plan_submit,
    plan_summary,
)
from .projects import ProjectListView, project_detail, project_edit
from .public import PUBLIC_LIMITS, checkin_enter, public_checkin, public_register
from .registration import (
    checkin_list,
    register,
    registration_checkin,
    registration_confirm,
    registration_hours,
    registration_remove,
    registration_undo,
)
from .teams import team_checkin, team_commend, team_detail, team_list, team_member_remove
from .volunteers import (
    commendation_index,
    volunteer_hours,
    volunteer_hours_decide,
    volunteer_index,
    youth_certificate,
    youth_record,
)

__all__ = [
    "PUBLIC_LIMITS",
    "ActivityListView",
    "ProjectListView",
    "activity_create",
    "activity_detail",
    "activity_edit",
    "activity_from_needs",
    "checkin_enter",
    "checkin_list",
    "commendation_index",
    "late_attendance",
    "photo_upload",
    "plan_create",
    "plan_deadline",
    "plan_detail",
    "plan_history",
    "plan_index",
    "plan_item_delete",
    "plan_item_edit",
    "plan_submit",
    "plan_summary",
    "project_detail",
    "project_edit",
    "public_checkin",
    "public_register",
    "register",
    "registration_checkin",
    "registration_confirm",
    "registration_hours",
    "registration_remove",
    "registration_undo",
    "team_checkin",
    "team_commend",
    "team_detail",
    "team_list",
    "team_member_remove",
    "volunteer_hours",
    "volunteer_hours_decide",
    "volunteer_index",
    "youth_certificate",
    "youth_record",
]
