"""An HTTP test browser: a requests.Session that fills in forms as a person's browser would."""

from __future__ import annotations

import re

import requests

HTTP_TIMEOUT = 15
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _explain(response: requests.Response, what: str) -> str:
    # Show the page's error messages, not 30 kB of HTML.
    errors = re.findall(
        r'class="[^"]*(?:invalid-feedback|alert-danger|errorlist|errornote)[^"]*"[^>]*>(.*?)</(?:div|p|ul)>',
        response.text,
        re.S,
    )
    errors = [re.sub(r"<[^>]+>|\s+", " ", e).strip() for e in errors]
    return (
        f"{what} answered {response.status_code} "
        f"(Location: {response.headers.get('Location')}); errors on the page: {errors}"
    )


class Browser:
    """A requests.Session that fills in forms the way a person's browser would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "integration-test"

    def get(self, path: str, expect: int = 200) -> requests.Response:
        response = self.session.get(self._url(path), timeout=HTTP_TIMEOUT, allow_redirects=False)
        assert response.status_code == expect, _explain(response, f"GET {path}")
        return response

    def submit(
        self, path: str, data: dict, *, form_page: str | None = None, expect: int = 302
    ) -> requests.Response:
        """GET the form page for its CSRF token, then POST `data` to `path`."""
        page = self.get(form_page or path)
        token = CSRF_INPUT.search(page.text)
        assert token, f"no CSRF token on {form_page or path}"
        response = self.session.post(
            self._url(path),
            data={"csrfmiddlewaretoken": token.group(1), **data},
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )
        assert response.status_code == expect, _explain(response, f"POST {path}")
        return response

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"
