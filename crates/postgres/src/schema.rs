// The tables the Diesel DSL writes to, as created by `migrations/`.

diesel::table! {
    roles (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        is_system -> Bool,
        signup_allowed -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    role_permissions (role_id, permission) {
        role_id -> Uuid,
        permission -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        role_id -> Uuid,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_families (id) {
        id -> Uuid,
        user_id -> Uuid,
        current_token_hash -> Bytea,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        family_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(users -> roles (role_id));

// Views (see the migration): the read side of users and roles.

diesel::table! {
    role_details (role_id) {
        role_id -> Uuid,
        role_name -> Text,
        role_description -> Text,
        role_is_system -> Bool,
        role_signup_allowed -> Bool,
        role_created_at -> Timestamptz,
        role_permissions -> Array<Text>,
    }
}

diesel::table! {
    user_core (id) {
        id -> Uuid,
        username -> Text,
        email -> Nullable<Text>,
        is_active -> Bool,
        created_at -> Timestamptz,
        password_hash -> Text,
        role_id -> Uuid,
        sub_plan_id -> Nullable<Uuid>,
        sub_status -> Nullable<Text>,
        sub_period_end -> Nullable<Timestamptz>,
        catalog_version -> BigInt,
    }
}

diesel::table! {
    catalog_version (id) {
        id -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    plans (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        description -> Text,
        price_cents -> BigInt,
        currency -> Text,
        billing_period -> Text,
        is_public -> Bool,
        is_default -> Bool,
        features -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    galleries (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    images (id) {
        id -> Uuid,
        title -> Text,
        description -> Text,
        status -> Text,
        uploaded_by -> Uuid,
        gallery_id -> Nullable<Uuid>,
        width -> Integer,
        height -> Integer,
        format -> Text,
        size_bytes -> BigInt,
        sha256 -> Bytea,
        storage_key -> Text,
        uploaded_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// Generated: `lower(title || U+001F || description)`, what `q` matches.
        search -> Text,
        taken_at -> Nullable<Timestamptz>,
        camera_make -> Nullable<Text>,
        camera_model -> Nullable<Text>,
        /// Recorded before width and height were read as shown: to be read again.
        reinspect -> Bool,
    }
}

// Kept by triggers (see the migrations): how many images, and bytes, each uploader has in
// each status and gallery. Not a key: a gallery may be none; the table's unique constraint has NULLS
// NOT DISTINCT. Only read here.
diesel::table! {
    image_counts (uploaded_by, status) {
        uploaded_by -> Uuid,
        status -> Text,
        gallery_id -> Nullable<Uuid>,
        n -> BigInt,
        bytes -> BigInt,
    }
}

diesel::table! {
    image_approvals (id) {
        id -> Uuid,
        image_id -> Uuid,
        decision -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Timestamptz,
    }
}

diesel::joinable!(images -> users (uploaded_by));
diesel::joinable!(image_approvals -> users (decided_by));

diesel::table! {
    subscriptions (user_id) {
        user_id -> Uuid,
        plan_id -> Uuid,
        status -> Text,
        started_at -> Timestamptz,
        current_period_end -> Nullable<Timestamptz>,
        cancel_at_period_end -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    subscription_changes (id) {
        id -> Uuid,
        user_id -> Uuid,
        changed_by -> Nullable<Uuid>,
        from_plan -> Nullable<Uuid>,
        to_plan -> Nullable<Uuid>,
        changed_at -> Timestamptz,
    }
}

diesel::joinable!(subscriptions -> users (user_id));
diesel::joinable!(subscriptions -> plans (plan_id));

diesel::allow_tables_to_appear_in_same_query!(
    blob_removals,
    roles,
    role_permissions,
    users,
    refresh_families,
    refresh_tokens,
    role_details,
    user_core,
    catalog_version,
    plans,
    galleries,
    images,
    image_approvals,
    subscriptions,
    subscription_changes,
    share_links,
);

diesel::table! {
    share_links (id) {
        id -> Uuid,
        image_id -> Uuid,
        created_by -> Uuid,
        token_hash -> Bytea,
        variant -> Text,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    blob_removals (key) {
        key -> Text,
        due_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        tat -> Timestamptz,
    }
}
