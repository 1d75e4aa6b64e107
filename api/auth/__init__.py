"""Identity and access: users and roles, argon2 passwords, JWT access tokens, refresh
tokens bound to a device, device revocation and the wipe instruction."""

from api.auth.service import AuthService, Identity
from api.auth.users import ROLES, DeviceRecord, UserRecord

__all__ = ["ROLES", "AuthService", "DeviceRecord", "Identity", "UserRecord"]
