"""The clinic's articles, one job per module.

- `rendering`: a Markdown body becomes HTML, a table of contents and a reading time (once, when saved);
- `sanitising`: the allow-list every rendered body passes through (tags, attributes, addresses);
- `services`: saving, deleting and re-rendering articles (every write makes the cached pages stale);
- `loading`: the article files in the repository (`content/articles/*.md`) loaded into the database;
- `selectors`: the published articles and their related articles, in list order;
- `search`: the site search over the published articles;
- `pages`: what an article page shows;
- `cache`: the shared-cache copy of the article list and the call that makes cached pages stale.

Pages only print the stored HTML; the public pages themselves are kept per process by `clinic.public_pages`.
"""
