import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FeedbackItem,
  type FeedbackSummary,
  type WatchlistRow,
  watchlistCsv,
  watchlistFlags,
} from '../contract/index.js';
import { abusiveWord } from '../services/feedback/abuse.js';
import { coveredMs } from '../services/feedback/watchlist.js';
import { ApiClient, adminWithSite, eventually, liveClient, siteFixture, testHub } from './helpers/hub.js';

const A = 'fb-site-a';
const B = 'fb-site-b';

/** A phone browser: keeps the feedback cookie the hub sets, as a browser would. */
class Visitor {
  cookie = '';
  constructor(readonly baseUrl: string) {}
  async give(siteId: string, body: unknown) {
    const res = await fetch(`${this.baseUrl}/api/public/stations/${siteId}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return {
      status: res.status,
      body: (await res.json()) as { code?: string; fields?: { path: string }[] },
      set,
    };
  }
}

describe('station feedback (issue 16)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  let managerA: ApiClient;
  let planner: ApiClient;

  beforeAll(async () => {
    hub = await testHub({ PUBLIC_RATE_LIMIT_MAX: 1000 });
    admin = await adminWithSite(hub, A);
    await admin.json('POST', '/api/sites', siteFixture(B));
    await admin.json('POST', '/api/users', {
      username: 'mgr-a',
      password: 'manager-pass-1',
      role: 'manager',
      siteIds: [A],
    });
    await admin.json('POST', '/api/users', {
      username: 'plan-1',
      password: 'planner-pass-1',
      role: 'planner',
    });
    managerA = new ApiClient(hub.httpUrl);
    await managerA.login('mgr-a', 'manager-pass-1');
    planner = new ApiClient(hub.httpUrl);
    await planner.login('plan-1', 'planner-pass-1');
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('one submission per browser per site per day, without asking for a number', async () => {
    const v = new Visitor(hub.httpUrl);
    const first = await v.give(A, { rating: 4, tags: ['clean', 'water'], comment: '水很热' });
    expect(first.status).toBe(201);
    expect(first.set).toMatch(/yz_fb=[A-Za-z0-9_-]{43};.*HttpOnly/i);
    const again = await v.give(A, { rating: 1 });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('FEEDBACK_ALREADY_GIVEN');
    expect((await v.give(B, { rating: 2, comment: '座位太少' })).status).toBe(201);
    // Another phone (another cookie) may rate A today too.
    expect(
      (await new Visitor(hub.httpUrl).give(A, { rating: 1, tags: ['staff'], comment: '没人值班' })).status,
    ).toBe(201);
  });

  it('refuses abusive and oversized text, bad ratings and unknown tags, with codes', async () => {
    const v = new Visitor(hub.httpUrl);
    const abusive = await v.give(A, { rating: 1, comment: '值班的是个 傻 逼' });
    expect(abusive.status).toBe(400);
    expect(abusive.body.code).toBe('FEEDBACK_REFUSED');
    const long = await v.give(A, { rating: 3, comment: 'x'.repeat(281) });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('VALIDATION');
    expect(long.body.fields?.[0]?.path).toBe('body.comment');
    expect((await v.give(A, { rating: 6 })).body.code).toBe('VALIDATION');
    expect((await v.give(A, { rating: 0 })).body.code).toBe('VALIDATION');
    expect((await v.give(A, { rating: 3, tags: ['wifi'] })).body.code).toBe('VALIDATION');
    expect((await v.give(A, { rating: 3, tags: ['clean', 'clean'] })).body.code).toBe('VALIDATION');
    expect((await v.give('no-such-site', { rating: 3 })).body.code).toBe('SITE_NOT_FOUND');
    // None of the refusals used up the day: a good one still goes through.
    expect((await v.give(A, { rating: 5 })).status).toBe(201);
  });

  it('the abuse list matches through spacing and case, and leaves plain complaints alone', () => {
    expect(abusiveWord('F u C k this')).toBe('fuck');
    expect(abusiveWord('厕所很脏，工作人员态度差')).toBeNull();
    expect(abusiveWord('dirty and rude staff')).toBeNull();
  });

  it("a manager of A sees A's comments, never B's; planners get counts only", async () => {
    const mine = await managerA.json<{ items: FeedbackItem[] }>('GET', `/api/sites/${A}/feedback`);
    expect(mine.status).toBe(200);
    expect(mine.body.items.every((i) => i.siteId === A)).toBe(true);
    expect(mine.body.items.map((i) => i.comment)).toContain('水很热');
    const theirs = await managerA.json<{ code: string }>('GET', `/api/sites/${B}/feedback`);
    expect(theirs.status).toBe(404);
    const bItem = (await admin.json<{ items: FeedbackItem[] }>('GET', `/api/sites/${B}/feedback`)).body
      .items[0]!;
    const patch = await managerA.json<{ code: string }>('PATCH', `/api/feedback/${bItem.id}`, {
      handled: true,
    });
    expect(patch.body.code).toBe('FEEDBACK_NOT_FOUND');
    const summary = await managerA.request('GET', '/api/feedback/summary');
    expect(await summary.text()).not.toContain(B);

    expect((await planner.json('GET', `/api/sites/${A}/feedback`)).status).toBe(403);
    const plan = await planner.request('GET', '/api/feedback/summary');
    const text = await plan.text();
    expect(text).not.toContain('水很热');
    expect(text).not.toContain('comment');
    const sites = (JSON.parse(text) as { sites: FeedbackSummary[] }).sites;
    expect(sites.find((s) => s.siteId === A)).toMatchObject({
      count: 3,
      complaints: 1,
      complaintsUnhandled: 1,
    });
  });

  it('a manager replies and marks a complaint handled; the socket tells only that site’s staff', async () => {
    const sockA = liveClient(hub.httpUrl, managerA.cookie);
    const sockPlanner = liveClient(hub.httpUrl, planner.cookie);
    const seenA: FeedbackItem[] = [];
    const seenPlanner: FeedbackItem[] = [];
    sockA.on('feedback', (f) => seenA.push(f));
    sockPlanner.on('feedback', (f) => seenPlanner.push(f));
    await Promise.all([sockA, sockPlanner].map((s) => new Promise((r) => s.once('snapshot', r))));
    try {
      expect((await new Visitor(hub.httpUrl).give(B, { rating: 1, comment: 'B 的投诉' })).status).toBe(201);
      expect((await new Visitor(hub.httpUrl).give(A, { rating: 2, comment: 'A 的投诉' })).status).toBe(201);
      const item = await eventually(() => seenA.find((f) => f.comment === 'A 的投诉'));
      const replied = await managerA.json<FeedbackItem>('PATCH', `/api/feedback/${item.id}`, {
        reply: '已安排清洁',
        handled: true,
      });
      expect(replied.status).toBe(200);
      expect(replied.body).toMatchObject({ reply: '已安排清洁', complaint: true });
      expect(replied.body.handledAt).not.toBeNull();
      await eventually(() => seenA.find((f) => f.id === item.id && f.handledAt !== null));
      expect(seenA.some((f) => f.siteId === B)).toBe(false);
      expect(seenPlanner).toEqual([]);
    } finally {
      sockA.close();
      sockPlanner.close();
    }
  });
});

describe('red and black list (issue 16)', () => {
  const base = {
    ratings: 5,
    average: 4,
    complaints: 0,
    complaintsOverdue: 0,
    doorOpenings: 10,
    uptimePct: 99.5,
    screeningsAttended: 0,
    screeningsBooked: 0,
  };
  const q = { redBelowAverage: 3, redComplaintShare: 0.3, minRatings: 5, blackAfter: 2 };

  it('red: low average or many complaints over enough ratings; black: repeated overdue complaints', () => {
    expect(watchlistFlags({ siteId: 's', ...base }, q)).toEqual({ red: false, black: false });
    expect(watchlistFlags({ siteId: 's', ...base, average: 2.8 }, q).red).toBe(true);
    expect(watchlistFlags({ siteId: 's', ...base, complaints: 2 }, q).red).toBe(true);
    expect(watchlistFlags({ siteId: 's', ...base, ratings: 4, average: 1 }, q).red).toBe(false);
    expect(watchlistFlags({ siteId: 's', ...base, complaintsOverdue: 1 }, q).black).toBe(false);
    expect(watchlistFlags({ siteId: 's', ...base, complaintsOverdue: 2 }, q).black).toBe(true);
  });

  it('uptime: dark intervals merged and clipped to the period', () => {
    expect(
      coveredMs(
        [
          { since: 0, end: 50 },
          { since: 40, end: 70 },
          { since: 90, end: null },
        ],
        10,
        100,
        95,
      ),
    ).toBe(65);
  });

  it('exports as CSV with a header, quoting and formula cells defused', () => {
    const csv = watchlistCsv([{ siteId: '=cmd', ...base, red: true, black: false }]);
    expect(csv.split('\r\n')[0]).toBe(
      'siteId,ratings,average,complaints,complaintsOverdue,doorOpenings,uptimePct,screeningsBooked,screeningsAttended,red,black',
    );
    expect(csv.split('\r\n')[1]).toBe("'=cmd,5,4,0,0,10,99.5,0,0,true,false");
  });

  it('serves planners the list and its CSV, scoped for managers', async () => {
    const hub = await testHub();
    try {
      const admin = await adminWithSite(hub, A);
      await admin.json('POST', '/api/sites', siteFixture(B));
      for (let i = 0; i < 5; i++)
        await new Visitor(hub.httpUrl).give(A, { rating: i < 3 ? 1 : 2, comment: '脏' });
      await admin.json('POST', '/api/users', {
        username: 'plan-2',
        password: 'planner-pass-1',
        role: 'planner',
      });
      const planner = new ApiClient(hub.httpUrl);
      await planner.login('plan-2', 'planner-pass-1');
      const from = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      const r = await planner.json<{ rows: WatchlistRow[] }>(
        'GET',
        `/api/feedback/watchlist?from=${from}&to=${to}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.rows.find((x) => x.siteId === A)).toMatchObject({
        ratings: 5,
        complaints: 5,
        red: true,
        black: false,
        uptimePct: 100,
      });
      expect(r.body.rows.find((x) => x.siteId === B)).toMatchObject({ ratings: 0, red: false });
      // Overdue: with a handling limit of 1 day, nothing is overdue yet (all were just given).
      const csv = await planner.request('GET', `/api/feedback/watchlist?from=${from}&to=${to}&format=csv`);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const text = await csv.text();
      expect(text).toContain(`${A},5,1.4,5,0,`);
      expect(text).not.toContain('脏');
    } finally {
      await hub.close();
    }
  });

  it('black-lists a site whose complaints waited past the limit, repeatedly', async () => {
    // Feedback given ten days ago (the hub's clock for feedback), never handled.
    const hub = await testHub({}, { now: () => Date.now() - 10 * 86_400_000 });
    try {
      const admin = await adminWithSite(hub, A);
      for (let i = 0; i < 2; i++) await new Visitor(hub.httpUrl).give(A, { rating: 1 });
      const from = new Date(Date.now() - 12 * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const r = await admin.json<{ rows: WatchlistRow[] }>(
        'GET',
        `/api/feedback/watchlist?from=${from}&to=${to}&handleWithinDays=7`,
      );
      expect(r.body.rows.find((x) => x.siteId === A)).toMatchObject({ complaintsOverdue: 2, black: true });
      const lenient = await admin.json<{ rows: WatchlistRow[] }>(
        'GET',
        `/api/feedback/watchlist?from=${from}&to=${to}&handleWithinDays=14`,
      );
      expect(lenient.body.rows.find((x) => x.siteId === A)).toMatchObject({
        complaintsOverdue: 0,
        black: false,
      });
    } finally {
      await hub.close();
    }
  });
});
