//! The diesel [`UserRepo`], one implementation for PostgreSQL and SQLite.

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use platform_auth_domain::{
    DisplayName, Email, InsertUserError, PasswordHash, User, UserCredentials, UserId, UserRecord,
    UserRepo,
};

use crate::db::{checkout, AnyConnection, DbPool, PooledConnection};
use crate::schema::users;

diesel::define_sql_function!(fn lower(value: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Stores users through a pooled diesel connection. Every method blocks.
#[derive(Clone)]
pub struct DieselUserRepo {
    pool: DbPool,
}

impl DieselUserRepo {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    fn connection(&self) -> anyhow::Result<PooledConnection> {
        checkout(&self.pool)
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: String,
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    name: String,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct CredentialsRow {
    #[diesel(embed)]
    user: UserRow,
    password_hash: String,
    disabled_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct RecordRow {
    #[diesel(embed)]
    user: UserRow,
    disabled_at: Option<NaiveDateTime>,
}

impl RecordRow {
    fn into_record(self) -> anyhow::Result<UserRecord> {
        Ok(UserRecord {
            user: self.user.into_user()?,
            disabled_at: self.disabled_at.map(|at| at.and_utc()),
        })
    }
}

impl UserRow {
    pub(crate) fn into_user(self) -> anyhow::Result<User> {
        let id: UserId = self
            .id
            .parse()
            .with_context(|| format!("stored user id {:?} is not a UUID", self.id))?;
        Ok(User {
            id,
            email: Email::from_stored(self.email),
            name: DisplayName::from_stored(self.name),
            created_at: self.created_at.and_utc(),
        })
    }
}

impl CredentialsRow {
    fn into_credentials(self) -> anyhow::Result<UserCredentials> {
        Ok(UserCredentials {
            user: self.user.into_user()?,
            password_hash: PasswordHash::new(self.password_hash),
            disabled_at: self.disabled_at.map(|at| at.and_utc()),
        })
    }
}

impl UserRepo for DieselUserRepo {
    fn insert(&self, user: &User, password_hash: &PasswordHash) -> Result<(), InsertUserError> {
        let row = NewUserRow {
            id: user.id.to_string(),
            email: user.email.as_str(),
            name: user.name.as_str(),
            password_hash: password_hash.expose(),
            created_at: user.created_at.with_timezone(&Utc).naive_utc(),
        };
        let mut connection = self.connection()?;

        let inserted = diesel::insert_into(users::table)
            .values(&row)
            .execute(&mut *connection as &mut AnyConnection);
        match inserted {
            Ok(_) => Ok(()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(InsertUserError::EmailTaken)
            }
            Err(error) => Err(anyhow::Error::new(error)
                .context("failed to insert a user")
                .into()),
        }
    }

    fn find_credentials_by_email(&self, email: &Email) -> anyhow::Result<Option<UserCredentials>> {
        let mut connection = self.connection()?;

        let row = users::table
            .filter(lower(users::email).eq(lower(email.as_str())))
            .select(CredentialsRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a user up by email")?;

        row.map(CredentialsRow::into_credentials).transpose()
    }

    fn find_by_id(&self, id: UserId) -> anyhow::Result<Option<User>> {
        let mut connection = self.connection()?;

        let row = users::table
            .find(id.to_string())
            .select(UserRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a user up by id")?;

        row.map(UserRow::into_user).transpose()
    }

    fn find_credentials_by_id(&self, id: UserId) -> anyhow::Result<Option<UserCredentials>> {
        let mut connection = self.connection()?;

        let row = users::table
            .find(id.to_string())
            .select(CredentialsRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a user's credentials up by id")?;

        row.map(CredentialsRow::into_credentials).transpose()
    }

    fn find_for_sessionless_token(
        &self,
        id: UserId,
        issued_at: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Option<User>> {
        let mut connection = self.connection()?;
        let by_id = users::table
            .find(id.to_string())
            .filter(users::disabled_at.is_null());

        let row = match issued_at {
            Some(issued_at) => by_id
                .filter(
                    users::tokens_valid_after
                        .is_null()
                        .or(users::tokens_valid_after.le(issued_at.naive_utc())),
                )
                .select(UserRow::as_select())
                .first(&mut *connection as &mut AnyConnection),
            None => by_id
                .filter(users::tokens_valid_after.is_null())
                .select(UserRow::as_select())
                .first(&mut *connection as &mut AnyConnection),
        }
        .optional()
        .context("failed to look up the user of a token without session")?;

        row.map(UserRow::into_user).transpose()
    }

    fn update_password_hash(&self, id: UserId, password_hash: &PasswordHash) -> anyhow::Result<()> {
        let mut connection = self.connection()?;

        diesel::update(users::table.find(id.to_string()))
            .set(users::password_hash.eq(password_hash.expose()))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to update a password hash")?;
        Ok(())
    }

    fn list(&self, limit: i64, offset: i64) -> anyhow::Result<Vec<UserRecord>> {
        let mut connection = self.connection()?;

        let rows = users::table
            .order((users::created_at.asc(), users::id.asc()))
            .limit(limit)
            .offset(offset)
            .select(RecordRow::as_select())
            .load(&mut *connection as &mut AnyConnection)
            .context("failed to list users")?;

        rows.into_iter().map(RecordRow::into_record).collect()
    }

    fn find_record(&self, id: UserId) -> anyhow::Result<Option<UserRecord>> {
        let mut connection = self.connection()?;

        let row = users::table
            .find(id.to_string())
            .select(RecordRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a user up by id")?;

        row.map(RecordRow::into_record).transpose()
    }

    fn find_record_by_email(&self, email: &Email) -> anyhow::Result<Option<UserRecord>> {
        let mut connection = self.connection()?;

        let row = users::table
            .filter(lower(users::email).eq(lower(email.as_str())))
            .select(RecordRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a user up by email")?;

        row.map(RecordRow::into_record).transpose()
    }

    fn set_disabled(&self, id: UserId, disabled_at: Option<DateTime<Utc>>) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;

        let updated = diesel::update(users::table.find(id.to_string()))
            .set(users::disabled_at.eq(disabled_at.map(|at| at.naive_utc())))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to change whether a user is disabled")?;
        Ok(updated == 1)
    }

    fn delete(&self, id: UserId) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;

        let deleted = diesel::delete(users::table.find(id.to_string()))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to delete a user")?;
        Ok(deleted == 1)
    }
}
