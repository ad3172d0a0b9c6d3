/* SPDX-License-Identifier: Apache-2.0
 *
 * The release version, shared by sluiced and the sluice CLI.
 */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#define SLUICE_VERSION "0.1.0"

#endif
