"""Every version of every questionnaire definition in the repository.

Files live at ``<directory>/<slug>/v<N>.yaml``. All versions stay loadable for as long as they are in the
repository: a stored response is always read against the version it answered. The current version of a
questionnaire is its highest version number.

The directories are ``settings.INTAKE_DEFINITION_DIRS`` when set (tests add their own), else the folder of
this package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from intake.definitions.loader import FILE_RE, DefinitionError, definition_load
from intake.definitions.types import Definition

DEFINITIONS_DIR = Path(__file__).resolve().parent
# Files that go with ``v1.yaml`` and are read with it: ``v1.lexicon.yaml``, the red-flag lexicon of that version
# (intake/screening/), and ``v1.hazards.yaml``, its clinical safety hazards (intake/hazards.py).
LEXICON_SUFFIX = ".lexicon.yaml"
HAZARDS_SUFFIX = ".hazards.yaml"
COMPANION_SUFFIXES = (LEXICON_SUFFIX, HAZARDS_SUFFIX)


class DefinitionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Registry:
    by_slug: dict[str, dict[int, Definition]] = field(default_factory=dict)

    def get(self, slug: str, version: int) -> Definition:
        try:
            return self.by_slug[slug][version]
        except KeyError:
            raise DefinitionNotFound(f"no questionnaire definition {slug}/v{version}") from None

    def current(self, slug: str) -> Definition:
        versions = self.by_slug.get(slug)
        if not versions:
            raise DefinitionNotFound(f"no questionnaire definition {slug!r}")
        return versions[max(versions)]

    def versions(self, slug: str) -> list[int]:
        return sorted(self.by_slug.get(slug, {}))

    @property
    def slugs(self) -> list[str]:
        return sorted(self.by_slug)

    def all(self) -> list[Definition]:
        return [self.by_slug[slug][version] for slug in self.slugs for version in self.versions(slug)]


def registry_load(directories: list[Path | str]) -> Registry:
    """Load and validate every definition file under the directories; the first bad file raises."""
    by_slug: dict[str, dict[int, Definition]] = {}
    for directory in map(Path, directories):
        if not directory.is_dir():
            raise DefinitionError(str(directory), "", "the definitions directory does not exist")
        for path in sorted(directory.glob("*/*.y*ml")):
            if path.name.endswith(COMPANION_SUFFIXES):
                continue  # read with its definition by the module that uses it
            if not FILE_RE.match(path.name):
                raise DefinitionError(str(path), "", "the file name must be v<version>.yaml, e.g. v1.yaml")
            definition = definition_load(path)
            versions = by_slug.setdefault(definition.slug, {})
            if definition.version in versions:
                other = versions[definition.version].path
                raise DefinitionError(str(path), "version", f"{definition.key} is also defined in {other}")
            versions[definition.version] = definition
    return Registry(by_slug)


def definition_directories() -> list[Path]:
    return [Path(p) for p in getattr(settings, "INTAKE_DEFINITION_DIRS", [DEFINITIONS_DIR])]


@functools.cache
def definitions_registry() -> Registry:
    """The registry of the configured directories, loaded once per process."""
    return registry_load(definition_directories())


def definition_get(slug: str, version: int) -> Definition:
    return definitions_registry().get(slug, version)


def definition_current(slug: str) -> Definition:
    return definitions_registry().current(slug)


@receiver(setting_changed)
def _reload_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting == "INTAKE_DEFINITION_DIRS":
        definitions_registry.cache_clear()
