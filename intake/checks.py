"""`manage.py check` (and so every deploy and test run) loads and validates every questionnaire definition."""

from django.core.checks import Error, Tags, register

from intake.definitions import DefinitionError
from intake.definitions.registry import definition_directories, registry_load


@register(Tags.models)
def definitions_check(app_configs=None, **kwargs):
    try:
        registry = registry_load(definition_directories())
    except DefinitionError as error:
        return [Error(str(error), hint="Fix the definition file; the questionnaire cannot be used.", id="intake.E001")]
    if not registry.slugs:
        return [Error("No questionnaire definition was found.", id="intake.E002")]
    return []
