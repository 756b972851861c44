//! The log-in use cases behind the admin UI: sessions, the throttle and the log-in form
//! tokens. The rules are in [`crate::auth`]; this applies them through the store.

use std::time::Duration;

use super::{Service, ServiceError, later};
use crate::auth::{ACCOUNT_POLICY, ADDRESS_POLICY, LOGIN_TOKEN_TTL, SessionRecord, SessionState};
use crate::ids::{AdministratieCode, ResourceId};
use crate::ports::{Admin, AdminStore, Clock};

impl<S, A, N, C> Service<S, A, N, C>
where
    S: AdminStore,
    C: Clock,
{
    /// The Beheerder with this e-mail and their password hash (the log-in).
    ///
    /// # Errors
    /// [`ServiceError::Busy`] or another store failure.
    pub async fn find_admin_for_login(
        &self,
        email: &str,
    ) -> Result<Option<(AdministratieCode, Admin, Option<String>)>, ServiceError> {
        Ok(self.store.find_admin_by_email(email).await?)
    }

    /// Counts a log-in attempt against the address and then the account before the
    /// password is checked: `Some(wait)` when either is locked (then nothing stays counted
    /// and the password must not be checked).
    ///
    /// # Errors
    /// A store failure.
    pub async fn login_attempt(
        &self,
        account: &str,
        address: &str,
    ) -> Result<Option<Duration>, ServiceError> {
        let now = self.clock.now();
        if let Some(wait) = self
            .store
            .throttle_attempt(address, now, ADDRESS_POLICY)
            .await?
        {
            return Ok(Some(wait));
        }
        if let Some(wait) = self
            .store
            .throttle_attempt(account, now, ACCOUNT_POLICY)
            .await?
        {
            // Only real failures count against the address.
            self.store.throttle_forgive(address).await?;
            return Ok(Some(wait));
        }
        Ok(None)
    }

    /// A successful log-in forgets the account's failures and takes back the attempt
    /// counted against the address.
    ///
    /// # Errors
    /// A store failure.
    pub async fn login_succeeded(&self, account: &str, address: &str) -> Result<(), ServiceError> {
        self.store.clear_throttle(account).await?;
        Ok(self.store.throttle_forgive(address).await?)
    }

    /// Marks a log-in form token (its hash) used; `false` when it was used before.
    ///
    /// # Errors
    /// A store failure.
    pub async fn use_login_token(&self, token_hash: &str) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        Ok(self
            .store
            .use_login_token(token_hash, later(now, LOGIN_TOKEN_TTL), now)
            .await?)
    }

    /// Starts a session for a Beheerder (the id hash comes from the web adapter).
    ///
    /// # Errors
    /// A store failure.
    pub async fn start_session(
        &self,
        id_hash: String,
        adm: AdministratieCode,
        admin_id: ResourceId,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let record = SessionRecord {
            id_hash,
            adm,
            admin_id,
            created_at: now,
            last_seen: now,
        };
        Ok(self.store.create_session(&record).await?)
    }

    /// The live session with this id hash and its Beheerder's name; an expired one is
    /// deleted, a live one's `last_seen` written at most once a minute.
    ///
    /// # Errors
    /// A store failure.
    pub async fn session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, String)>, ServiceError> {
        let Some((record, name)) = self.store.get_session(id_hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        match record.state(now) {
            SessionState::Expired => {
                self.store.delete_session(id_hash).await?;
                Ok(None)
            }
            SessionState::Live { touch } => {
                if touch {
                    self.store.touch_session(id_hash, now).await?;
                }
                Ok(Some((record, name)))
            }
        }
    }

    /// Ends a session (log-out).
    ///
    /// # Errors
    /// A store failure.
    pub async fn end_session(&self, id_hash: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(id_hash).await?)
    }
}
