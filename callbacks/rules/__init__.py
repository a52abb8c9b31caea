"""The domain rules of callback and booking requests, each written once and called by everything else.

The lowest layer of the app: these modules import no other part of `callbacks` (the models import them), so a
rule can be read, and tested, on its own. `docs/ARCHITECTURE.md` has a table of which rule lives where.
"""
