import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

/** How a category's posts are shown, in the email and on the web. */
export type CategoryDisplay = 'titles' | 'excerpt' | 'full';

export interface CategoryTable {
  id: Generated<number>;
  name: string;
  title: string;
  description: Generated<string>;
  created_at: CreatedAt;
  public: ColumnType<boolean, boolean | undefined, boolean>;
  display: ColumnType<CategoryDisplay, CategoryDisplay | undefined, CategoryDisplay>;
  source_cap: ColumnType<number, number | undefined, number>;
  thumbnails: ColumnType<boolean, boolean | undefined, boolean>;
}
export type Category = Selectable<CategoryTable>;
export type NewCategory = Insertable<CategoryTable>;

export type FeedStatus = 'ok' | 'not_modified' | 'error';

export interface FeedTable {
  id: Generated<number>;
  category_id: number;
  url: string;
  title: string | null;
  site_url: string | null;
  etag: string | null;
  last_modified: string | null;
  created_at: CreatedAt;
  last_fetched_at: Timestamp | null;
  last_success_at: Timestamp | null;
  next_fetch_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_status: FeedStatus | null;
  last_error: string | null;
  consecutive_failures: Generated<number>;
  disabled_at: Timestamp | null;
  disabled_reason: string | null;
  hidden: ColumnType<boolean, boolean | undefined, boolean>;
  /** Bumped with each change to what the planet shows of the feed (see bumpPlanetVersion). */
  planet_version: ColumnType<string, never, string>;
}
export type Feed = Selectable<FeedTable>;
export type NewFeed = Insertable<FeedTable>;
export type FeedUpdate = Updateable<FeedTable>;

export interface ItemTable {
  id: Generated<number>;
  feed_id: number;
  guid: string;
  url: string | null;
  title: string;
  author: string | null;
  content_html: string;
  excerpt: string;
  content_hash: string;
  published_at: Timestamp | null;
  first_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: Timestamp | null;
  mailable: ColumnType<boolean, boolean | undefined, boolean>;
  /** The inserting transaction, which decides whether a post is new to a subscriber: see src/digest/cursor.ts. */
  created_xid: ColumnType<string, never, never>;
  image_url: string | null;
  image_alt: string | null;
  enclosures: ColumnType<Enclosure[], string | undefined, string>;
  categories: ColumnType<string[], string[] | undefined, string[]>;
  /** Which filter rule kept the post out of digests and pages; null when none did. */
  filtered_by: string | null;
}

/** An audio, video or other attachment of a post. */
export interface Enclosure {
  url: string;
  type: string | null;
  length: number | null;
}
export type Item = Selectable<ItemTable>;
export type NewItem = Insertable<ItemTable>;

export type SubscriberStatus = 'pending' | 'active' | 'paused' | 'unsubscribed' | 'bounced';
export type Frequency = 'daily' | 'weekly';

export type RuleAction = 'keep' | 'block';
export type RuleField = 'title' | 'content' | 'author' | 'category' | 'url';
export type RuleKind = 'word' | 'regex';

export interface FilterRuleTable {
  id: Generated<number>;
  /** Null: a site-wide rule. */
  feed_id: number | null;
  action: RuleAction;
  field: RuleField;
  kind: RuleKind;
  pattern: string;
  created_at: CreatedAt;
}
export type FilterRule = Selectable<FilterRuleTable>;
export type NewFilterRule = Insertable<FilterRuleTable>;

export interface SubscriberTable {
  id: Generated<number>;
  email: string;
  email_normalized: string;
  status: ColumnType<SubscriberStatus, SubscriberStatus | undefined, SubscriberStatus>;
  timezone: ColumnType<string, string | undefined, string>;
  delivery_hour: ColumnType<number, number | undefined, number>;
  frequency: ColumnType<Frequency, Frequency | undefined, Frequency>;
  weekly_day: ColumnType<number, number | undefined, number>;
  /** The snapshot ('xmin:xmax:xip,...') of this subscriber's last planning: see src/digest/cursor.ts. */
  items_cursor: string | null;
  created_at: CreatedAt;
  confirmed_at: Timestamp | null;
  unsubscribed_at: Timestamp | null;
  confirmation_sent_at: Timestamp | null;
  /** The sign-up (consents.id) a confirmation link may confirm, once: migration 007. */
  pending_signup_id: ColumnType<number | null, number | null | undefined, number | null>;
}
export type Subscriber = Selectable<SubscriberTable>;
export type NewSubscriber = Insertable<SubscriberTable>;
export type SubscriberUpdate = Updateable<SubscriberTable>;

export type ConsentAction = 'signup' | 'confirm' | 'preferences' | 'pause' | 'resume' | 'unsubscribe' | 'resubscribe' | 'complaint';
export type ConsentChannel = 'web' | 'one-click' | 'mail' | 'cli' | 'import';

export interface ConsentTable {
  id: Generated<number>;
  subscriber_id: number;
  action: ConsentAction;
  channel: ConsentChannel;
  ip: string | null;
  user_agent: string | null;
  choices: ColumnType<unknown, string | undefined, string>;
  created_at: CreatedAt;
}
export type Consent = Selectable<ConsentTable>;
export type NewConsent = Insertable<ConsentTable>;

export interface SubscriberCategoryTable {
  subscriber_id: number;
  category_id: number;
}

export interface EditionTable {
  id: Generated<number>;
  key: string;
  category_ids: number[];
  item_ids: number[];
  created_at: CreatedAt;
  subject: string | null;
  html: string | null;
  text: string | null;
  rendered_at: Timestamp | null;
  /** The readers' IANA time zone: editions are split by zone (see migration 008). */
  time_zone: ColumnType<string, string | undefined, string>;
  /** The random part of this rendering's placeholders (see src/mail/personal.ts). */
  slot_nonce: string | null;
}
export type Edition = Selectable<EditionTable>;
export type NewEdition = Insertable<EditionTable>;

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface DeliveryTable {
  id: Generated<number>;
  subscriber_id: number;
  period: Timestamp;
  edition_id: number | null;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_until: Timestamp | null;
  last_error: string | null;
  message_id: string | null;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
}
export type Delivery = Selectable<DeliveryTable>;
export type NewDelivery = Insertable<DeliveryTable>;

export interface RunTable {
  id: Generated<number>;
  kind: string;
  started_at: CreatedAt;
  finished_at: Timestamp | null;
  summary: ColumnType<unknown, string | undefined, string>;
}

/** One value per name, for the installation as a whole (see migrations/006_settings.sql). */
export interface SettingTable {
  name: string;
  value: string;
}

/** What an inbound report says about one delivery (see src/bounces/). */
export type BounceKind = 'hard' | 'soft' | 'complaint' | 'unsubscribe' | 'auto-reply' | 'delivered';
/** Where the outcome came from: 'smtp' is a refusal while we sent, the others reports that came back later. */
export type BounceSource = 'mail' | 'imap' | 'smtp' | 'ses' | 'mailgun' | 'postmark';
export type BounceAction = 'bounced' | 'unsubscribed' | 'counted' | 'none';

export interface BounceEventTable {
  id: Generated<number>;
  subscriber_id: number;
  delivery_id: number | null;
  kind: BounceKind;
  source: BounceSource;
  action: BounceAction;
  dsn_status: string | null;
  diagnostic: string | null;
  evidence: string;
  event_key: string | null;
  created_at: CreatedAt;
}
export type BounceEvent = Selectable<BounceEventTable>;
export type NewBounceEvent = Insertable<BounceEventTable>;

export interface Database {
  categories: CategoryTable;
  feeds: FeedTable;
  items: ItemTable;
  filter_rules: FilterRuleTable;
  subscribers: SubscriberTable;
  subscriber_categories: SubscriberCategoryTable;
  consents: ConsentTable;
  editions: EditionTable;
  deliveries: DeliveryTable;
  runs: RunTable;
  settings: SettingTable;
  bounce_events: BounceEventTable;
}
