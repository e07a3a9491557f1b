// The same table on both backends: the types are the ones diesel's
// MultiConnection maps on PostgreSQL and SQLite alike, which is why the id is
// text rather than a native UUID.
diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}
