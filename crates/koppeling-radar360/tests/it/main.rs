//! Store tests on real databases: every scenario runs on a fresh SQLite file and on a fresh
//! PostgreSQL database (`TEST_DATABASE_URL`; skipped loudly when unset, failing under `CI`).

mod basics;
mod busy;
mod claims;
mod helpers;
mod invariants;
mod notices;
mod queueing;
mod readback;
// issue 13 (secrets)
mod rotate;

mod connect;
// issue 14: typed pause reasons
mod pause;

/// Generates one test per engine for each scenario function `path::name(Harness)`.
macro_rules! scenarios {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::run(crate::helpers::Engine::Sqlite, |h| {
                        Box::pin(crate::$module::$name(h))
                    })
                    .await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::run(crate::helpers::Engine::Postgres, |h| {
                        Box::pin(crate::$module::$name(h))
                    })
                    .await;
                }
            )*
        }
    };
}

scenarios!(
    pause::old_pause_sentences_are_converted_and_stay_readable,
    basics::round_trips,
    basics::admin_email_is_unique_across_the_service,
    basics::administraties_are_isolated,
    basics::koppelsleutel_is_not_stored_in_clear_text,
    basics::koppeling_pause_and_resume,
    basics::migrate_is_idempotent,
    basics::work_is_announced_across_processes,
    queueing::final_invoice_is_queued_with_its_write,
    queueing::tick_queues_existing_final_invoices,
    queueing::code_collision_007_and_7_is_refused,
    queueing::draft_is_never_queued,
    queueing::synced_invoice_is_locked_but_identical_put_is_ok,
    queueing::retry_requeues_a_failed_invoice,
    queueing::list_is_newest_first_100_a_page,
    claims::concurrent_claimers_never_share_an_invoice,
    claims::administraties_are_served_by_one_worker_at_a_time,
    claims::expired_lease_is_reclaimed_with_lookup,
    claims::finish_with_a_stale_lease_writes_nothing,
    claims::paused_or_inactive_koppeling_is_not_claimed,
    claims::one_administratie_does_not_starve_the_others,
    claims::outcomes_update_state_and_log,
    claims::a_batch_of_jobs_loads_like_single_jobs,
    notices::notices_become_notifications_and_dedupe,
    notices::mail_delivery_bookkeeping,
    invariants::a_final_invoice_number_is_unique,
    invariants::an_invoice_whose_outcome_is_unknown_cannot_change,
    invariants::a_snelstart_id_belongs_to_one_invoice,
    invariants::outcomes_finished_together_are_fenced_one_by_one,
    invariants::puts_arriving_together_are_decided_one_by_one,
    notices::dedupe_counts_mails_sent_in_the_window_and_mails_still_waiting,
    notices::given_up_mails_are_due_again_after_the_migration,
    busy::a_held_write_lock_is_busy_and_nothing_is_written,
    busy::a_busy_tick_rolls_back_as_a_whole,
    busy::an_exhausted_pool_is_busy,
    readback::events_are_gapless_and_written_with_their_outcome,
    readback::a_pass_stores_payment_drift_state_and_events_at_once,
    // issue 13 (secrets)
    rotate::keys_rotate_to_the_current_master_key,
    // issue 13 (helper b)
    basics::relations_are_paged_and_searched_in_sql,
    connect::references_are_stored_hashed_and_bound_to_their_administratie,
);
