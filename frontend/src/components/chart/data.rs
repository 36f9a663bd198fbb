//! A chart's data: one series query for its runs (refetched, debounced, after a zoom, pan or
//! resize), then each run's `series` topic appended live.

use super::*;

impl ChartHandle {
    /// Makes the slots match the runs and the data settings; refetches when they changed.
    pub(super) fn sync_runs(self, runs: &[RunRef], data_key: DataKey) {
        let mut unsub = Vec::new();
        let changed = self.st.try_update_value(|st| {
            let reset = st.data.data_key != data_key;
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            let same = !reset
                && st.data.slots.len() == ids.len()
                && st.data.slots.iter().zip(&ids).all(|(s, id)| s.id == *id);
            if same {
                return false;
            }
            let mut old: Vec<Slot> = std::mem::take(&mut st.data.slots);
            for r in runs {
                let slot = match old.iter().position(|s| s.id == r.id) {
                    Some(i) if !reset => old.swap_remove(i),
                    _ => Slot {
                        id: r.id.clone(),
                        created_at: r.created_at,
                        ..Default::default()
                    },
                };
                st.data.slots.push(slot);
            }
            // Subscriptions of dropped slots (and of all, on an axis change) end.
            unsub.extend(old.into_iter().filter_map(|s| s.sub));
            if reset {
                for s in &mut st.data.slots {
                    unsub.extend(s.sub.take());
                    s.data = SeriesState::default();
                    s.drawn_tail = 0;
                }
                st.data.data_key = data_key.clone();
                st.data.epoch += 1;
                st.view.zoom_x = None;
                st.view.zoom_y = None;
                st.view.auto_x = None;
            }
            st.data.generation += 1;
            st.schedule.full = true;
            true
        });
        for id in unsub {
            ws::unsubscribe(id);
        }
        if changed == Some(true) {
            self.fetch();
            self.redraw(true);
        }
    }

    pub(super) fn fetch(self) {
        if !self.alive() {
            return;
        }
        let Some(go) = self.st.try_update_value(|st| {
            if !st.data.started || st.view.size.0 < 1.0 {
                return None;
            }
            if st.data.fetching {
                st.data.refetch_after = true;
                return None;
            }
            if st.data.slots.is_empty() {
                return None;
            }
            st.data.fetching = true;
            st.data.last_fetch_ms = js_sys::Date::now();
            let ids: Vec<String> = st.data.slots.iter().map(|s| s.id.clone()).collect();
            Some((
                ids,
                st.view.zoom_x,
                plot::plot_width(st.view.size.0),
                st.data.generation,
            ))
        }) else {
            return;
        };
        let Some((ids, window, width, generation)) = go else {
            return;
        };
        if self.phase.get_untracked() != Phase::Ready {
            self.phase.set(Phase::Loading);
        }
        let settings = self.settings();
        let (project, key) = (self.project.get_value(), self.key.get_value());
        let t0 = perf_now();
        self.st.update_value(|st| {
            st.data.first_request_ms.get_or_insert(t0);
        });
        spawn_local(async move {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut url = api::series_window_url(
                &project,
                &refs,
                &key,
                settings.x,
                settings.x_key.as_deref(),
                window,
                width,
            );
            if settings.x_log {
                // Columns equal in log10(x): exact per pixel on the log axis too.
                url.push_str("&x_log=true");
            }
            let res = api::series(&url).await;
            if !self.alive() {
                return;
            }
            measure("tl:panel:data-request", t0, perf_now(), &key);
            let again = self
                .st
                .try_update_value(|st| {
                    st.data.fetching = false;
                    std::mem::take(&mut st.data.refetch_after)
                })
                .unwrap_or(false);
            match res {
                Ok(resp) => self.apply(resp, generation),
                Err(e) => {
                    if self.phase.get_untracked() != Phase::Ready {
                        self.phase.set(Phase::Failed(e.to_string()));
                        set_timeout(
                            move || {
                                if self.alive()
                                    && matches!(self.phase.get_untracked(), Phase::Failed(_))
                                {
                                    self.fetch();
                                }
                            },
                            RETRY_AFTER,
                        );
                    } else {
                        leptos::logging::warn!("trackline: refetching {key}: {e}");
                    }
                }
            }
            if again {
                self.fetch();
            }
        });
    }

    pub(super) fn apply(self, resp: SeriesResponse, generation: u64) {
        let mut subscribe = Vec::new();
        let ok = self.st.try_update_value(|st| {
            if st.data.generation != generation {
                // The runs or the axis changed meanwhile: a newer fetch is on its way.
                return false;
            }
            for rs in resp.runs {
                let Some((i, slot)) = st
                    .data
                    .slots
                    .iter_mut()
                    .enumerate()
                    .find(|(_, s)| s.id == rs.run)
                else {
                    continue;
                };
                if slot.sub.is_none() {
                    slot.data = SeriesState::from_history(resp.window, resp.width, rs);
                    subscribe.push(i);
                } else {
                    slot.data.replace_history(resp.window, resp.width, rs);
                }
                slot.data.log = resp.x_log;
                slot.drawn_tail = 0;
            }
            if st.view.zoom_x.is_none() {
                st.view.auto_x =
                    plot::data_extent(st.data.slots.iter().map(|s| &s.data), resp.x_log);
            }
            st.schedule.full = true;
            true
        });
        if ok != Some(true) {
            return;
        }
        self.phase.set(Phase::Ready);
        self.update_points();
        for i in subscribe {
            self.subscribe(i);
        }
        self.redraw(true);
    }

    pub(super) fn subscribe(self, i: usize) {
        let Some((run, from)) = self
            .st
            .with_value(|st| st.data.slots.get(i).map(|s| (s.id.clone(), s.data.held())))
        else {
            return;
        };
        // Against another metric, the daemon joins the live points as the query joined the
        // history, so they append like any others.
        let topic = Topic::Series {
            project: self.project.get_value(),
            run: run.clone(),
            key: self.key.get_value(),
            from,
            x_key: self.settings().x_key,
        };
        let (generation, epoch) = self.st.with_value(|st| (st.data.generation, st.data.epoch));
        let id = ws::subscribe(topic, move |msg| self.on_msg(&run, epoch, msg));
        // Record the subscription on the slot of that run (slots may have moved).
        let stored = self.st.try_update_value(|st| {
            if st.data.generation != generation {
                return false;
            }
            match st.data.slots.get_mut(i) {
                Some(s) if s.sub.is_none() => {
                    s.sub = Some(id);
                    true
                }
                _ => false,
            }
        });
        if stored != Some(true) {
            ws::unsubscribe(id);
        }
    }

    pub(super) fn on_msg(self, run: &str, epoch: u64, msg: ServerMsg) {
        if !self.alive() {
            return;
        }
        let ServerMsg::Points {
            start,
            step,
            wall_time,
            value,
            ..
        } = msg
        else {
            if let ServerMsg::Error { message, .. } = msg {
                leptos::logging::warn!("trackline: series {}: {message}", self.key.get_value());
            }
            return;
        };
        let settings = self.settings();
        let mut refetch = false;
        let appended = self.st.try_update_value(|st| {
            if st.data.epoch != epoch {
                return false;
            }
            let Some(slot) = st.data.slots.iter_mut().find(|s| s.id == run) else {
                return false;
            };
            // Joined against `x_key`, `step` carries the other metric's value.
            let xs: Vec<f64> = match settings.x {
                _ if settings.x_key.is_some() => step,
                XAxis::Step => step,
                XAxis::WallTime => wall_time,
                XAxis::RelativeTime => wall_time.iter().map(|w| w - slot.created_at).collect(),
            };
            match slot.data.append(start, &xs, &value) {
                AppendOutcome::Appended(n) if n > 0 => {
                    if slot.data.wants_compaction()
                        && js_sys::Date::now() - st.data.last_fetch_ms > COMPACT_EVERY_MS
                    {
                        refetch = true;
                    }
                    true
                }
                AppendOutcome::Gap => {
                    refetch = true;
                    false
                }
                _ => false,
            }
        });
        if appended == Some(true) {
            self.st.update_value(|st| st.schedule.points_changed = true);
            self.redraw(false);
        }
        if refetch {
            self.fetch();
        }
    }

    pub(super) fn update_points(self) {
        let n = self
            .st
            .with_value(|st| st.data.slots.iter().map(|s| s.data.points()).sum::<u64>());
        self.points.set(n);
    }

    pub(super) fn debounced_fetch(self) {
        let generation = self.st.try_update_value(|st| {
            st.data.debounce_gen += 1;
            st.data.debounce_gen
        });
        let Some(generation) = generation else { return };
        set_timeout(
            move || {
                if self.alive() && self.st.with_value(|st| st.data.debounce_gen) == generation {
                    self.fetch();
                }
            },
            REFETCH_DEBOUNCE,
        );
    }
}
