//! The diesel [`UserRepo`], one implementation for PostgreSQL and SQLite.

use anyhow::Context;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use platform_auth_domain::{
    DisplayName, Email, InsertUserError, PasswordHash, User, UserCredentials, UserId, UserRepo,
};

use crate::db::{AnyConnection, DbPool};
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

    fn connection(&self) -> anyhow::Result<r2d2::PooledConnection<crate::db::ConnectionManager>> {
        self.pool
            .get()
            .context("failed to get a database connection from the pool")
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
struct UserRow {
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
}

impl UserRow {
    fn into_user(self) -> anyhow::Result<User> {
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

        row.map(|row| {
            Ok(UserCredentials {
                user: row.user.into_user()?,
                password_hash: PasswordHash::new(row.password_hash),
            })
        })
        .transpose()
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

    fn update_password_hash(&self, id: UserId, password_hash: &PasswordHash) -> anyhow::Result<()> {
        let mut connection = self.connection()?;

        diesel::update(users::table.find(id.to_string()))
            .set(users::password_hash.eq(password_hash.expose()))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to update a password hash")?;
        Ok(())
    }
}
