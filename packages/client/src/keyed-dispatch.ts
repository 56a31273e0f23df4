import type { Route } from './router';

export type RouteOf = (key: string) => Route;
export type ShouldRetry = (err: unknown, route: Route) => Promise<boolean>;

/**
 * One key: sent on its route; after an error the router judges worth it (E_NOT_OWNER from a newer
 * ring, now refreshed), routed again and sent once more. Once, because a second E_NOT_OWNER means
 * the nodes themselves disagree, and looping would only hide it.
 *
 * The route is chosen synchronously in the caller's tick, so calls made together still leave in
 * one write per node (auto-pipelining is per connection, per tick).
 */
export async function dispatchOne<R>(key: string, routeOf: RouteOf, shouldRetry: ShouldRetry, send: (route: Route) => Promise<R>): Promise<R> {
  const route = routeOf(key);
  try {
    return await send(route);
  } catch (e) {
    if (!(await shouldRetry(e, route))) throw e;
  }
  return send(routeOf(key));
}

/**
 * Many keys: grouped by route (one request per node, or two when the node is also standing in for
 * a down owner, since hints are per request), sent in parallel, results put back in the caller's
 * order. A group that fails retryably is split again under the new ring, once.
 */
export async function dispatchMany<I, R>(
  items: readonly I[],
  keyOf: (item: I) => string,
  routeOf: RouteOf,
  shouldRetry: ShouldRetry,
  send: (route: Route, items: I[]) => Promise<R[]>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  const run = async (indexes: readonly number[], retried: boolean): Promise<void> => {
    await Promise.all(groupByRoute(indexes, (i) => routeOf(keyOf(items[i]!))).map(async ({ route, indexes: mine }) => {
      let results: R[];
      try {
        results = await send(route, mine.map((i) => items[i]!));
      } catch (e) {
        if (retried || !(await shouldRetry(e, route))) throw e;
        return run(mine, true);
      }
      mine.forEach((i, j) => { out[i] = results[j]!; });
    }));
  };
  await run(items.map((_, i) => i), false);
  return out;
}

/** Routes are handed out as one object per (node, hints), so object identity is the batch key. */
function groupByRoute(indexes: readonly number[], routeOf: (i: number) => Route): Array<{ route: Route; indexes: number[] }> {
  const groups = new Map<Route, { route: Route; indexes: number[] }>();
  for (const i of indexes) {
    const route = routeOf(i);
    let g = groups.get(route);
    if (!g) groups.set(route, (g = { route, indexes: [] }));
    g.indexes.push(i);
  }
  return [...groups.values()];
}
