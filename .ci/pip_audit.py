"""pip-audit over every installed package, honest about what it could check.

pip-audit asks PyPI's advisory data for each package. From a machine that cannot reach it (or reaches only a
mirror without it) every package is skipped and pip-audit still prints "No known vulnerabilities found": this
script says plainly that nothing was audited and passes. A vulnerability found in any package fails the run.
"""

import json
import subprocess
import sys


def main() -> int:
    run = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        dependencies = json.loads(run.stdout)["dependencies"]
    except (ValueError, KeyError):
        reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: NOT RUN: the vulnerability database cannot be reached from this machine ({reason})")
        return 0
    audited = [dependency for dependency in dependencies if "skip_reason" not in dependency]
    if not audited:
        print(
            "pip-audit: NOT RUN: the vulnerability database cannot be reached from this machine "
            f"({len(dependencies)} packages installed, none could be audited)"
        )
        return 0
    vulnerable = [dependency for dependency in audited if dependency["vulns"]]
    skipped = len(dependencies) - len(audited)
    print(f"pip-audit: {len(audited)} audited, {skipped} skipped, {len(vulnerable)} with known vulnerabilities")
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            print(f"  {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
