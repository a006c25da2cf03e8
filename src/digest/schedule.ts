import type { Frequency } from '../db/schema.js';

/** When a subscriber's digest falls due, as they chose it (computed in SQL by ./due.ts). */
export interface Schedule {
  timezone: string;
  deliveryHour: number;
  frequency: Frequency;
  /** ISO weekday for weekly digests: 1 = Monday ... 7 = Sunday. */
  weeklyDay: number;
}

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

export function formatHour(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** "daily at 07:00 (Europe/Berlin)", "weekly on Monday at 18:00 (UTC)". */
export function describeSchedule(schedule: Schedule): string {
  const when = schedule.frequency === 'weekly' ? `weekly on ${WEEKDAYS[schedule.weeklyDay - 1] ?? 'Monday'}` : 'daily';
  return `${when} at ${formatHour(schedule.deliveryHour)} (${schedule.timezone})`;
}
