import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

/** RFC 3339 timestamp with an offset (`Z` or `±hh:mm`). */
export const Rfc3339Timestamp = z.iso
  .datetime({ offset: true })
  .check(z.describe('RFC 3339 timestamp'));

/** RFC 3339 full date (`YYYY-MM-DD`), or a full timestamp. */
export const Rfc3339Date = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .check(z.describe('RFC 3339 date (YYYY-MM-DD) or timestamp'));

/** The controller's opaque identifier of a person. Personal data: never logged in clear. */
export const SubjectId = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'subjectId must be 1-128 characters of [A-Za-z0-9._:@-]'),
    z.describe('Opaque identifier of the data subject (personal data: never logged in clear)'),
  );

/** The controller (customer company) on whose behalf data is processed. */
export const TenantId = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenantid must match [a-z0-9][a-z0-9-]{0,62}'),
    z.describe('The controller on whose behalf the data is processed'),
  );

/** A category id of the retention policy (validated against the loaded policy by the operations). */
export const CategoryId = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      'category must be a lowercase category id of the retention policy',
    ),
    z.describe('A data category of the retention policy, e.g. accounting-document'),
  );

/** A request identifier (erasure, access). */
export const RequestId = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.describe('Identifier of the request, 1-128 characters'),
  );
