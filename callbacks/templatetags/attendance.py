"""``{% attendance_buttons appointment next_url can_act %}``: an appointment's attendance mark and the one-click
buttons for the marks it can take now, the same in the diary and on the request's page."""

from django import template
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks.admin.attendance import ATTENDANCE_BUTTONS
from callbacks.rules.booking import attendance_mark_check
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone

register = template.Library()


@register.inclusion_tag("admin/callbacks/appointment/attendance_buttons.html")
def attendance_buttons(appointment, next_url: str, can_act: bool):
    now, zone = timezone.now(), clinic_zone()
    buttons = []
    if can_act:
        for mark, words in ATTENDANCE_BUTTONS:
            if mark == appointment.attendance:
                continue
            try:
                attendance_mark_check(
                    status=appointment.status, attendance=mark, starts_at=appointment.starts_at, now=now, zone=zone
                )
            except ValidationError:
                continue
            buttons.append((mark, words))
    marked_at = appointment.attendance_marked_at
    return {
        "appointment": appointment,
        "reference": appointment.request.reference,
        "buttons": buttons,
        "next_url": next_url,
        "marked_by": staff_display_name(appointment.attendance_marked_by) if appointment.attendance else "",
        "marked_at": timezone.localtime(marked_at, zone) if marked_at else None,
    }
