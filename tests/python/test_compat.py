"""What a Python client of the original platform relies on, checked against
the real binary with httpx and PyJWT: the register, login and me flows,
the documented errors, and tokens that PyJWT can sign and read."""

import asyncio
import time
import uuid
from datetime import datetime, timezone

import httpx
import jwt
import pytest

from conftest import SECRET, TOKEN_TTL_SECONDS

PASSWORD = "mypassword"
USER_KEYS = {"id", "name", "email", "created_at"}


@pytest.fixture
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def email():
    """A fresh address per test, because all tests share one server."""
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def register(client, email, name="John Doe"):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": name},
    )
    assert response.status_code == 201, response.text
    return response.json()


def assert_user_shape(user):
    assert set(user) == USER_KEYS
    assert str(uuid.UUID(user["id"])) == user["id"]
    created_at = datetime.fromisoformat(user["created_at"])
    assert created_at.utcoffset() == timezone.utc.utcoffset(None)
    assert isinstance(user["name"], str)


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] == code
    return body


def test_health(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_register_returns_token_and_user(client, email):
    body = register(client, email)

    # The original's two fields, plus the session fields newer clients use.
    assert {"token", "user"} <= set(body)
    assert set(body) - {"token", "user"} == {"refresh_token", "token_type", "expires_in"}
    assert isinstance(body["token"], str)
    assert_user_shape(body["user"])
    assert body["user"]["email"] == email
    assert body["user"]["name"] == "John Doe"


def test_login_returns_token_and_user(client, email):
    registered = register(client, email)

    response = client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert {"token", "user"} <= set(body)
    assert body["user"] == registered["user"]


def test_me_returns_user(client, email):
    registered = register(client, email)

    response = client.get(
        "/api/v1/auth/me",
        headers={"Authorization": f"Bearer {registered['token']}"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == registered["user"]
    assert_user_shape(response.json())


def test_async_flow_as_documented(base_url, email):
    """The original platform's httpx.AsyncClient example, unchanged in shape."""

    async def flow():
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            register_resp = await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "name": "John Doe"},
            )
            token = register_resp.json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            me_resp = await client.get("/api/v1/auth/me", headers=headers)
            return me_resp.json()

    user_info = asyncio.run(flow())

    assert user_info["name"] == "John Doe"
    assert user_info["email"] == email


def test_wrong_password_is_401(client, email):
    register(client, email)

    response = client.post(
        "/api/v1/auth/login", json={"email": email, "password": "wrong-password"}
    )

    assert_error(response, 401, "invalid_credentials")


def test_unknown_email_is_401(client):
    response = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody@example.com", "password": PASSWORD},
    )

    assert_error(response, 401, "invalid_credentials")


def test_duplicate_email_is_409(client, email):
    register(client, email)

    response = client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )

    assert_error(response, 409, "email_taken")


def test_missing_token_is_401(client):
    response = client.get("/api/v1/auth/me")

    assert_error(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401(client):
    response = client.get(
        "/api/v1/auth/me", headers={"Authorization": "Bearer not-a-jwt"}
    )

    assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_invalid_fields_are_422(client):
    response = client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "short"}
    )

    body = assert_error(response, 422, "validation_failed")
    fields = [error["field"] for error in body["errors"]]
    assert fields == ["email"]
    for error in body["errors"]:
        assert set(error) == {"field", "code", "detail"}


def test_pyjwt_token_is_accepted(client, email):
    registered = register(client, email)
    user = registered["user"]
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": user["id"],
            "email": user["email"],
            "name": user["name"],
            "iat": now,
            "exp": now + 600,
        },
        SECRET,
        algorithm="HS256",
    )

    response = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == user


def test_expired_pyjwt_token_is_401(client, email):
    user = register(client, email)["user"]
    now = int(time.time())
    token = jwt.encode(
        {"sub": user["id"], "email": email, "name": user["name"],
         "iat": now - 60, "exp": now - 1},
        SECRET,
        algorithm="HS256",
    )

    response = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )

    assert_error(response, 401, "token_expired")


def test_server_token_decodes_with_pyjwt(client, email):
    registered = register(client, email)
    user = registered["user"]

    claims = jwt.decode(registered["token"], SECRET, algorithms=["HS256"])

    assert claims["sub"] == user["id"]
    assert claims["email"] == user["email"]
    assert claims["name"] == user["name"]
    assert isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == TOKEN_TTL_SECONDS
    assert jwt.get_unverified_header(registered["token"])["alg"] == "HS256"


def test_server_token_fails_with_other_secret(client, email):
    registered = register(client, email)

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            registered["token"],
            "another-secret-0123456789abcdef-0123456",
            algorithms=["HS256"],
        )
