"""Users, organisations, memberships and roles, teams, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


def normalize_email(email: str) -> str:
    """Emails are compared whole and case-insensitively, so they are stored lowercased."""
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address and a password."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The organisation the user last opened, where "/" takes them.
    last_organization = models.ForeignKey(
        "Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Role(models.TextChoices):
    """Roles in an organisation, from most to least powerful."""

    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return {"owner": 4, "admin": 3, "member": 2, "viewer": 1}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class Organization(models.Model):
    """A tenant: everything a user can reach hangs off one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user: User) -> Role | None:
        membership = self.memberships.filter(user=user).only("role").first()
        return Role(membership.role) if membership else None

    def owner_count(self) -> int:
        return self.memberships.filter(role=Role.OWNER).count()


class Membership(models.Model):
    """A user's place in an organisation, with a role."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class Team(models.Model):
    """A group of an organisation's members; projects may be restricted to teams."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="team_slug_unique_in_org")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _hash_secret(secret: str) -> str:
    # Secrets here are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """An emailed, expiring, single-use link that makes its holder a member of an organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organization}"

    @staticmethod
    def new_key() -> tuple[str, str]:
        """A fresh link key and the hash stored for it."""
        key = secrets.token_urlsafe(32)
        return key, _hash_secret(key)

    @staticmethod
    def default_expiry() -> Any:
        return timezone.now() + timedelta(days=settings.INVITATION_EXPIRY_DAYS)

    @classmethod
    def find(cls, key: str) -> Invitation | None:
        return cls.objects.select_related("organization").filter(key_hash=_hash_secret(key)).first()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class TokenScope(models.TextChoices):
    INGEST = "ingest", "Ingest (one project)"
    READ = "read", "Read (organisation)"
    WRITE = "write", "Read and write (organisation)"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A secret for machines: project-bound ingest tokens, and org tokens that read or read+write.

    Only a SHA-256 hash of the secret is stored, with its type prefix and last four characters so
    people can tell their tokens apart. The secret itself is shown once, when the token is created.
    """

    INGEST_PREFIX = "mlp_ing_"
    ORG_PREFIX = "mlp_org_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tokens")
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=16, choices=TokenScope.choices)
    prefix = models.CharField(max_length=16)
    last4 = models.CharField(max_length=4)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="ingest") & Q(project__isnull=False))
                | (Q(scope__in=["read", "write"]) & Q(project__isnull=True)),
                name="ingest_tokens_have_a_project_org_tokens_none",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display})"

    @classmethod
    def generate(cls, scope: str) -> tuple[str, str, str]:
        """A new secret with its type prefix, and what is stored of it: (secret, prefix, hash)."""
        prefix = cls.INGEST_PREFIX if scope == TokenScope.INGEST else cls.ORG_PREFIX
        secret = prefix + secrets.token_urlsafe(32)
        return secret, prefix, _hash_secret(secret)

    @staticmethod
    def hash_secret(secret: str) -> str:
        return _hash_secret(secret)

    @classmethod
    def find(cls, secret: str) -> ApiToken | None:
        return (
            cls.objects.select_related("organization", "project")
            .filter(key_hash=_hash_secret(secret))
            .first()
        )

    @property
    def display(self) -> str:
        return f"{self.prefix}…{self.last4}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"

    def touch(self) -> None:
        """Record a use, writing at most once per resolution period (one UPDATE, no read)."""
        now = timezone.now()
        threshold = now - timedelta(seconds=settings.API_TOKEN_LAST_USED_RESOLUTION_SECONDS)
        if self.last_used_at is not None and self.last_used_at >= threshold:
            return
        # The condition is repeated in SQL so that concurrent requests write once between them.
        updated = (
            ApiToken.objects.filter(pk=self.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold))
            .update(last_used_at=now)
        )
        if updated:
            self.last_used_at = now
