-- A Supabase-shaped database: what the platform provides before any app migration, as far
-- as the corpus schemas rely on it (roles, schemas, privileges, auth.users and the auth
-- functions, storage buckets and objects, pgcrypto and uuid-ossp in `extensions`, the
-- realtime publication). Our own SQL after the facts in the README's "Adopting an existing
-- database"; run once per database by tests/db/test_corpus.py before a corpus schema.

do $$
begin
    create role anon nologin noinherit;
exception when duplicate_object or unique_violation then null;
end $$;
do $$
begin
    create role authenticated nologin noinherit;
exception when duplicate_object or unique_violation then null;
end $$;
do $$
begin
    create role service_role nologin noinherit bypassrls;
exception when duplicate_object or unique_violation then null;
end $$;
do $$
begin
    create role authenticator login noinherit;
exception when duplicate_object or unique_violation then null;
end $$;
do $$
begin
    create role supabase_auth_admin nologin noinherit;
exception when duplicate_object or unique_violation then null;
end $$;
grant anon, authenticated, service_role to authenticator;

create schema if not exists auth;
create schema if not exists storage;
create schema if not exists extensions;
grant usage on schema public, auth, storage, extensions to anon, authenticated, service_role;
grant usage on schema auth to supabase_auth_admin;

alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant execute on functions to anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

create table auth.users (
    instance_id uuid,
    id uuid not null primary key,
    aud character varying(255),
    role character varying(255),
    email character varying(255),
    encrypted_password character varying(255),
    email_confirmed_at timestamp with time zone,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    phone text
);

create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create table storage.buckets (
    id text not null primary key,
    name text not null,
    owner uuid,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now(),
    public boolean default false
);
create table storage.objects (
    id uuid not null default gen_random_uuid() primary key,
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now(),
    last_accessed_at timestamp with time zone default now(),
    metadata jsonb
);
alter table storage.objects enable row level security;

create publication supabase_realtime;
