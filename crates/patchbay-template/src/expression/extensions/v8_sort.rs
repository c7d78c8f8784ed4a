//! `Array.prototype.sort` as V8 (node 20) runs it: TimSort with binary insertion for short
//! runs and galloping merges.
//!
//! lodash's `orderBy` sorts with a comparator that JavaScript's loose comparisons can make
//! inconsistent (`"10" < "9"` as texts, `"9" < 10` as numbers). With such a comparator the
//! result depends on the exact sequence of comparisons, so matching the package means
//! making the same comparisons in the same order as V8. This module follows the structure
//! of V8's TimSort (itself CPython's `listsort`): the same run detection, minimum run
//! length, merge-collapse rules, galloping thresholds and merge directions. With a
//! consistent comparator it is simply a stable sort.
//!
//! It never panics, whatever the comparator returns: every index is bounded by the run
//! lengths, which only shrink.

/// Galloping starts after this many consecutive wins of one run (V8's `kMinGallopWins`).
const MIN_GALLOP_WINS: usize = 7;

/// Sorts `items` in place with `compare` (negative: the first argument goes first).
pub(crate) fn sort<T: Copy>(items: &mut [T], compare: &impl Fn(&T, &T) -> i64) {
    let length = items.len();
    if length < 2 {
        return;
    }
    let mut state = State {
        items,
        compare,
        min_gallop: MIN_GALLOP_WINS,
        runs: Vec::new(),
    };
    let mut low = 0;
    let mut remaining = length;
    let min_run = min_run_length(remaining);
    while remaining != 0 {
        let mut run = state.count_and_make_run(low, low + remaining);
        if run < min_run {
            let forced = min_run.min(remaining);
            state.binary_insertion_sort(low, low + run, low + forced);
            run = forced;
        }
        state.runs.push((low, run));
        state.merge_collapse();
        low += run;
        remaining -= run;
    }
    state.merge_force_collapse();
}

/// V8's `ComputeMinRunLength`.
fn min_run_length(mut n: usize) -> usize {
    let mut r = 0;
    while n >= 64 {
        r |= n & 1;
        n >>= 1;
    }
    n + r
}

struct State<'s, T, C> {
    items: &'s mut [T],
    compare: &'s C,
    min_gallop: usize,
    /// Pending runs: (base, length).
    runs: Vec<(usize, usize)>,
}

impl<T: Copy, C: Fn(&T, &T) -> i64> State<'_, T, C> {
    fn cmp(&self, a: &T, b: &T) -> i64 {
        (self.compare)(a, b)
    }

    /// Sorts `items[low..high]`, of which `items[low..start]` is already sorted.
    fn binary_insertion_sort(&mut self, low: usize, start: usize, high: usize) {
        let start = if low == start { start + 1 } else { start };
        for start in start..high {
            let pivot = self.items[start];
            let mut left = low;
            let mut right = start;
            while left < right {
                let middle = left + ((right - left) >> 1);
                if self.cmp(&pivot, &self.items[middle]) < 0 {
                    right = middle;
                } else {
                    left = middle + 1;
                }
            }
            self.items.copy_within(left..start, left + 1);
            self.items[left] = pivot;
        }
    }

    /// The length of the run starting at `low` (ascending, or strictly descending and then
    /// reversed), within `high`.
    fn count_and_make_run(&mut self, low: usize, high: usize) -> usize {
        if low + 1 == high {
            return 1;
        }
        let mut run = 2;
        let descending = self.cmp(&self.items[low + 1], &self.items[low]) < 0;
        let mut previous = self.items[low + 1];
        for index in low + 2..high {
            let current = self.items[index];
            let order = self.cmp(&current, &previous);
            if (descending && order >= 0) || (!descending && order < 0) {
                break;
            }
            previous = current;
            run += 1;
        }
        if descending {
            self.items[low..low + run].reverse();
        }
        run
    }

    fn run_length(&self, index: usize) -> usize {
        self.runs[index].1
    }

    /// Whether the pending runs up to `n` keep TimSort's length invariant.
    fn invariant_holds(&self, n: usize) -> bool {
        if n < 2 {
            return true;
        }
        self.run_length(n - 2) > self.run_length(n - 1) + self.run_length(n)
    }

    fn merge_collapse(&mut self) {
        while self.runs.len() > 1 {
            let mut n = self.runs.len() - 2;
            if !self.invariant_holds(n + 1) || !self.invariant_holds(n) {
                if n > 0 && self.run_length(n - 1) < self.run_length(n + 1) {
                    n -= 1;
                }
                self.merge_at(n);
            } else if self.run_length(n) <= self.run_length(n + 1) {
                self.merge_at(n);
            } else {
                break;
            }
        }
    }

    fn merge_force_collapse(&mut self) {
        while self.runs.len() > 1 {
            let mut n = self.runs.len() - 2;
            if n > 0 && self.run_length(n - 1) < self.run_length(n + 1) {
                n -= 1;
            }
            self.merge_at(n);
        }
    }

    /// Merges pending runs `i` and `i + 1`.
    fn merge_at(&mut self, i: usize) {
        let (mut base_a, mut length_a) = self.runs[i];
        let (base_b, mut length_b) = self.runs[i + 1];
        self.runs[i].1 = length_a + length_b;
        self.runs.remove(i + 1);
        let key = self.items[base_b];
        let k = gallop_right(self, Area::Items, &key, base_a, length_a, 0);
        base_a += k;
        length_a -= k;
        if length_a == 0 {
            return;
        }
        let key = self.items[base_a + length_a - 1];
        length_b = gallop_left(self, Area::Items, &key, base_b, length_b, length_b - 1);
        if length_b == 0 {
            return;
        }
        if length_a <= length_b {
            self.merge_low(base_a, length_a, base_b, length_b);
        } else {
            self.merge_high(base_a, length_a, base_b, length_b);
        }
    }

    /// Merges two adjacent runs, the first not longer than the second, front to back.
    fn merge_low(&mut self, base_a: usize, length_a: usize, base_b: usize, length_b: usize) {
        let temp: Vec<T> = self.items[base_a..base_a + length_a].to_vec();
        let mut length_a = length_a;
        let mut length_b = length_b;
        let mut dest = base_a;
        let mut cursor_temp = 0;
        let mut cursor_b = base_b;
        self.items[dest] = self.items[cursor_b];
        dest += 1;
        cursor_b += 1;
        // `true`: copy the rest of B, then the last of A ("CopyB"); `false`: copy the
        // rest of A ("Succeed").
        let copy_b = 'merge: {
            length_b -= 1;
            if length_b == 0 {
                break 'merge false;
            }
            if length_a == 1 {
                break 'merge true;
            }
            let mut min_gallop = self.min_gallop;
            loop {
                let mut wins_a = 0;
                let mut wins_b = 0;
                loop {
                    if self.cmp(&self.items[cursor_b], &temp[cursor_temp]) < 0 {
                        self.items[dest] = self.items[cursor_b];
                        dest += 1;
                        cursor_b += 1;
                        wins_b += 1;
                        length_b -= 1;
                        wins_a = 0;
                        if length_b == 0 {
                            break 'merge false;
                        }
                        if wins_b >= min_gallop {
                            break;
                        }
                    } else {
                        self.items[dest] = temp[cursor_temp];
                        dest += 1;
                        cursor_temp += 1;
                        wins_a += 1;
                        length_a -= 1;
                        wins_b = 0;
                        if length_a == 1 {
                            break 'merge true;
                        }
                        if wins_a >= min_gallop {
                            break;
                        }
                    }
                }
                min_gallop += 1;
                let mut first = true;
                while wins_a >= MIN_GALLOP_WINS || wins_b >= MIN_GALLOP_WINS || first {
                    first = false;
                    min_gallop = min_gallop.saturating_sub(1).max(1);
                    self.min_gallop = min_gallop;
                    let key = self.items[cursor_b];
                    wins_a = gallop_right(self, Area::Temp(&temp), &key, cursor_temp, length_a, 0);
                    if wins_a > 0 {
                        self.items[dest..dest + wins_a]
                            .copy_from_slice(&temp[cursor_temp..cursor_temp + wins_a]);
                        dest += wins_a;
                        cursor_temp += wins_a;
                        length_a -= wins_a;
                        if length_a == 1 {
                            break 'merge true;
                        }
                        if length_a == 0 {
                            break 'merge false;
                        }
                    }
                    self.items[dest] = self.items[cursor_b];
                    dest += 1;
                    cursor_b += 1;
                    length_b -= 1;
                    if length_b == 0 {
                        break 'merge false;
                    }
                    let key = temp[cursor_temp];
                    wins_b = gallop_left(self, Area::Items, &key, cursor_b, length_b, 0);
                    if wins_b > 0 {
                        self.items.copy_within(cursor_b..cursor_b + wins_b, dest);
                        dest += wins_b;
                        cursor_b += wins_b;
                        length_b -= wins_b;
                        if length_b == 0 {
                            break 'merge false;
                        }
                    }
                    self.items[dest] = temp[cursor_temp];
                    dest += 1;
                    cursor_temp += 1;
                    length_a -= 1;
                    if length_a == 1 {
                        break 'merge true;
                    }
                }
                min_gallop += 1;
                self.min_gallop = min_gallop;
            }
        };
        if copy_b {
            self.items.copy_within(cursor_b..cursor_b + length_b, dest);
            self.items[dest + length_b] = temp[cursor_temp];
        } else if length_a > 0 {
            self.items[dest..dest + length_a]
                .copy_from_slice(&temp[cursor_temp..cursor_temp + length_a]);
        }
    }

    /// Merges two adjacent runs, the second shorter than the first, back to front.
    fn merge_high(&mut self, base_a: usize, length_a: usize, base_b: usize, length_b: usize) {
        let temp: Vec<T> = self.items[base_b..base_b + length_b].to_vec();
        let mut length_a = length_a;
        let mut length_b = length_b;
        // Positions are kept one past the element (`dest` is written at `dest - 1`), so
        // that they never go below zero.
        let mut dest = base_b + length_b;
        let mut cursor_temp = length_b;
        let mut cursor_a = base_a + length_a;
        self.items[dest - 1] = self.items[cursor_a - 1];
        dest -= 1;
        cursor_a -= 1;
        // `true`: copy the rest of A, then the first of B ("CopyA"); `false`: copy the
        // rest of B ("Succeed").
        let copy_a = 'merge: {
            length_a -= 1;
            if length_a == 0 {
                break 'merge false;
            }
            if length_b == 1 {
                break 'merge true;
            }
            let mut min_gallop = self.min_gallop;
            loop {
                let mut wins_a = 0;
                let mut wins_b = 0;
                loop {
                    if self.cmp(&temp[cursor_temp - 1], &self.items[cursor_a - 1]) < 0 {
                        self.items[dest - 1] = self.items[cursor_a - 1];
                        dest -= 1;
                        cursor_a -= 1;
                        wins_a += 1;
                        length_a -= 1;
                        wins_b = 0;
                        if length_a == 0 {
                            break 'merge false;
                        }
                        if wins_a >= min_gallop {
                            break;
                        }
                    } else {
                        self.items[dest - 1] = temp[cursor_temp - 1];
                        dest -= 1;
                        cursor_temp -= 1;
                        wins_b += 1;
                        length_b -= 1;
                        wins_a = 0;
                        if length_b == 1 {
                            break 'merge true;
                        }
                        if wins_b >= min_gallop {
                            break;
                        }
                    }
                }
                min_gallop += 1;
                let mut first = true;
                while wins_a >= MIN_GALLOP_WINS || wins_b >= MIN_GALLOP_WINS || first {
                    first = false;
                    min_gallop = min_gallop.saturating_sub(1).max(1);
                    self.min_gallop = min_gallop;
                    let key = temp[cursor_temp - 1];
                    let k = gallop_right(self, Area::Items, &key, base_a, length_a, length_a - 1);
                    wins_a = length_a - k;
                    if wins_a > 0 {
                        dest -= wins_a;
                        cursor_a -= wins_a;
                        self.items.copy_within(cursor_a..cursor_a + wins_a, dest);
                        length_a -= wins_a;
                        if length_a == 0 {
                            break 'merge false;
                        }
                    }
                    self.items[dest - 1] = temp[cursor_temp - 1];
                    dest -= 1;
                    cursor_temp -= 1;
                    length_b -= 1;
                    if length_b == 1 {
                        break 'merge true;
                    }
                    let key = self.items[cursor_a - 1];
                    let k = gallop_left(self, Area::Temp(&temp), &key, 0, length_b, length_b - 1);
                    wins_b = length_b - k;
                    if wins_b > 0 {
                        dest -= wins_b;
                        cursor_temp -= wins_b;
                        self.items[dest..dest + wins_b]
                            .copy_from_slice(&temp[cursor_temp..cursor_temp + wins_b]);
                        length_b -= wins_b;
                        if length_b == 1 {
                            break 'merge true;
                        }
                        if length_b == 0 {
                            break 'merge false;
                        }
                    }
                    self.items[dest - 1] = self.items[cursor_a - 1];
                    dest -= 1;
                    cursor_a -= 1;
                    length_a -= 1;
                    if length_a == 0 {
                        break 'merge false;
                    }
                }
                min_gallop += 1;
                self.min_gallop = min_gallop;
            }
        };
        if copy_a {
            dest -= length_a;
            cursor_a -= length_a;
            self.items.copy_within(cursor_a..cursor_a + length_a, dest);
            self.items[dest - 1] = temp[cursor_temp - 1];
        } else if length_b > 0 {
            self.items[dest - length_b..dest].copy_from_slice(&temp[..length_b]);
        }
    }
}

/// Which array a gallop searches: the items being sorted or a merge's temporary copy.
enum Area<'t, T> {
    Items,
    Temp(&'t [T]),
}

fn element<T: Copy, C>(state: &State<'_, T, C>, area: &Area<'_, T>, index: usize) -> T {
    match area {
        Area::Items => state.items[index],
        Area::Temp(temp) => temp[index],
    }
}

/// V8's `GallopLeft`: the position in the sorted `area[base..base + length]` where `key`
/// goes before every equal element, searched outwards from `hint`.
fn gallop_left<T: Copy, C: Fn(&T, &T) -> i64>(
    state: &State<'_, T, C>,
    area: Area<'_, T>,
    key: &T,
    base: usize,
    length: usize,
    hint: usize,
) -> usize {
    let at = |offset: usize| element(state, &area, base + offset);
    let mut last_offset: isize = 0;
    let mut offset: isize = 1;
    let hint_i = hint as isize;
    let length_i = length as isize;
    if state.cmp(&at(hint), key) < 0 {
        let max_offset = length_i - hint_i;
        while offset < max_offset {
            if state.cmp(&at((hint_i + offset) as usize), key) >= 0 {
                break;
            }
            last_offset = offset;
            offset = (offset << 1) + 1;
        }
        offset = offset.min(max_offset);
        last_offset += hint_i;
        offset += hint_i;
    } else {
        let max_offset = hint_i + 1;
        while offset < max_offset {
            if state.cmp(&at((hint_i - offset) as usize), key) < 0 {
                break;
            }
            last_offset = offset;
            offset = (offset << 1) + 1;
        }
        offset = offset.min(max_offset);
        let previous = last_offset;
        last_offset = hint_i - offset;
        offset = hint_i - previous;
    }
    last_offset += 1;
    while last_offset < offset {
        let middle = last_offset + ((offset - last_offset) >> 1);
        if state.cmp(&at(middle as usize), key) < 0 {
            last_offset = middle + 1;
        } else {
            offset = middle;
        }
    }
    offset as usize
}

/// V8's `GallopRight`: the position in the sorted `area[base..base + length]` where `key`
/// goes after every equal element, searched outwards from `hint`.
fn gallop_right<T: Copy, C: Fn(&T, &T) -> i64>(
    state: &State<'_, T, C>,
    area: Area<'_, T>,
    key: &T,
    base: usize,
    length: usize,
    hint: usize,
) -> usize {
    let at = |offset: usize| element(state, &area, base + offset);
    let mut last_offset: isize = 0;
    let mut offset: isize = 1;
    let hint_i = hint as isize;
    let length_i = length as isize;
    if state.cmp(key, &at(hint)) < 0 {
        let max_offset = hint_i + 1;
        while offset < max_offset {
            if state.cmp(key, &at((hint_i - offset) as usize)) >= 0 {
                break;
            }
            last_offset = offset;
            offset = (offset << 1) + 1;
        }
        offset = offset.min(max_offset);
        let previous = last_offset;
        last_offset = hint_i - offset;
        offset = hint_i - previous;
    } else {
        let max_offset = length_i - hint_i;
        while offset < max_offset {
            if state.cmp(key, &at((hint_i + offset) as usize)) < 0 {
                break;
            }
            last_offset = offset;
            offset = (offset << 1) + 1;
        }
        offset = offset.min(max_offset);
        last_offset += hint_i;
        offset += hint_i;
    }
    last_offset += 1;
    while last_offset < offset {
        let middle = last_offset + ((offset - last_offset) >> 1);
        if state.cmp(key, &at(middle as usize)) < 0 {
            offset = middle;
        } else {
            last_offset = middle + 1;
        }
    }
    offset as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence.
    fn numbers(count: usize, seed: u64) -> Vec<i64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                i64::try_from((state >> 33) % 50).unwrap_or(0)
            })
            .collect()
    }

    #[test]
    fn sorts_stably_like_a_stable_sort() {
        for (count, seed) in [
            (0, 1),
            (1, 2),
            (5, 3),
            (63, 4),
            (64, 5),
            (65, 6),
            (300, 7),
            (5000, 8),
        ] {
            // (value, original position): sorting by value must keep positions ascending.
            let values = numbers(count, seed);
            let mut items: Vec<(i64, usize)> = values.iter().copied().zip(0..).collect();
            sort(&mut items, &|a: &(i64, usize), b: &(i64, usize)| a.0 - b.0);
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            assert_eq!(items, expected, "{count} items");
        }
        // Long ascending and descending stretches exercise runs and galloping.
        let mut items: Vec<i64> = (0..1000).chain((0..1000).rev()).chain(500..1500).collect();
        sort(&mut items, &|a: &i64, b: &i64| a - b);
        assert!(items.windows(2).all(|pair| pair[0] <= pair[1]));
    }

    #[test]
    fn survives_an_inconsistent_comparator() {
        let mut items: Vec<i64> = numbers(3000, 9);
        let calls = std::cell::Cell::new(0_i64);
        sort(&mut items, &|a: &i64, b: &i64| {
            calls.set(calls.get() + 1);
            if (a ^ b ^ calls.get()) & 1 == 0 {
                -1
            } else {
                1
            }
        });
        assert!(calls.get() > 0);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        let mut original = numbers(3000, 9);
        original.sort_unstable();
        assert_eq!(sorted, original, "a permutation of the input");
    }
}
