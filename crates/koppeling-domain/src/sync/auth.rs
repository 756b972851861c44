//! The log-in use cases behind the admin UI: sessions, the throttle and the log-in form
//! tokens. The rules are in [`crate::auth`]; this applies them through the store.

use std::time::Duration;

use super::{Service, ServiceError, later};
use crate::auth::{
    ACCOUNT_POLICY, ADDRESS_POLICY, LOGIN_TOKEN_TTL, SessionRecord, SessionState, Throttle,
};
use crate::ids::{AdministratieCode, ResourceId};
use crate::ports::{Accounting, Admin, Clock, Notifier, Store};

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    N: Notifier,
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

    /// How long a log-in under these throttle keys must still wait (the longest lock).
    ///
    /// # Errors
    /// A store failure.
    pub async fn login_locked(&self, keys: &[&str]) -> Result<Option<Duration>, ServiceError> {
        let now = self.clock.now();
        let mut longest: Option<Duration> = None;
        for key in keys {
            if let Some(t) = self.store.get_throttle(key).await?
                && let Some(d) = t.locked_for(now)
            {
                longest = Some(longest.map_or(d, |l| l.max(d)));
            }
        }
        Ok(longest)
    }

    /// Records a failed log-in under the account key (if any) and the address key.
    ///
    /// # Errors
    /// A store failure.
    pub async fn login_failed(
        &self,
        account: Option<&str>,
        address: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let keys = account
            .map(|k| (k, ACCOUNT_POLICY))
            .into_iter()
            .chain(std::iter::once((address, ADDRESS_POLICY)));
        for (key, policy) in keys {
            let before = self.store.get_throttle(key).await?;
            let after = Throttle::after_failure(before.as_ref(), now, &policy);
            self.store.put_throttle(key, &after).await?;
        }
        Ok(())
    }

    /// A successful log-in forgets the account's failures.
    ///
    /// # Errors
    /// A store failure.
    pub async fn login_succeeded(&self, account: &str) -> Result<(), ServiceError> {
        Ok(self.store.clear_throttle(account).await?)
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
