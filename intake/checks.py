"""`manage.py check` (and so every deploy and test run) validates every questionnaire definition and lexicon."""

from django.core.checks import Error, Tags, register

from intake.definitions import DefinitionError
from intake.definitions.registry import definition_directories, registry_load
from intake.screening.lexicon import lexicon_load, lexicon_path


@register(Tags.models)
def definitions_check(app_configs=None, **kwargs):
    try:
        registry = registry_load(definition_directories())
    except DefinitionError as error:
        return [Error(str(error), hint="Fix the definition file; the questionnaire cannot be used.", id="intake.E001")]
    if not registry.slugs:
        return [Error("No questionnaire definition was found.", id="intake.E002")]
    for definition in registry.all():
        path = lexicon_path(definition)
        if path is None or not path.is_file():
            continue
        try:
            lexicon_load(path, definition)
        except DefinitionError as error:
            return [Error(str(error), hint="Fix the red-flag lexicon file.", id="intake.E003")]
    return []
