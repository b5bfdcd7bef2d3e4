/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Provenance headers: what the sink adds to every replicated record.
 *
 * Each destination record carries, after all of the source record's own
 * headers (kept in order, duplicates kept), these five headers in this
 * order. Values are ASCII: names as they are, numbers in decimal.
 *
 * The destination log is the source of truth for replication progress:
 * the last record of a destination partition names the source offset it
 * came from, so a restart resumes at that offset + 1 (docs/ARCHITECTURE.md,
 * section 5). `isthmus verify` uses the same headers to pair destination
 * records with source records.
 */
#ifndef ISTHMUS_PROVENANCE_H
#define ISTHMUS_PROVENANCE_H

#define IST_PROV_REGION     "isthmus.origin.region"    /**< [appliance] region of the source side */
#define IST_PROV_CLUSTER    "isthmus.origin.cluster"   /**< [kafka NAME] of the flow's source */
#define IST_PROV_TOPIC      "isthmus.origin.topic"     /**< source topic */
#define IST_PROV_PARTITION  "isthmus.origin.partition" /**< source partition, decimal */
#define IST_PROV_OFFSET     "isthmus.origin.offset"    /**< source offset, decimal */

#define IST_PROV_PREFIX     "isthmus.origin."
#define IST_PROV_PREFIX_LEN (sizeof(IST_PROV_PREFIX) - 1)
#define IST_PROV_N          5

#endif /* ISTHMUS_PROVENANCE_H */
