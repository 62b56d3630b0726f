/*
 * A bump allocator: a declaration set is thousands of small objects and
 * strings that all die together, so they are carved out of large chunks
 * and freed at once (fast loads, and no per-object free paths to get wrong).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define CHUNK_SIZE (64 * 1024)

typedef struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
} chunk;

struct config_arena {
	chunk *head;
};

config_arena *config__arena_new(void)
{
	return calloc(1, sizeof(config_arena));
}

void config__arena_free(config_arena *a)
{
	chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *config__arena_alloc(config_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	chunk *c = a->head;
	void *p;

	if (size > SIZE_MAX - align)
		return NULL;
	size = (size + align - 1) / align * align;
	if (!size)
		size = align;
	if (!c || c->size - c->used < size) {
		size_t csize = size > CHUNK_SIZE ? size : CHUNK_SIZE;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = csize;
		/* A big one-off allocation goes behind the current chunk so
		 * that the rest of the current chunk stays in use. */
		if (a->head && size > CHUNK_SIZE) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *config__arena_strndup(config_arena *a, const char *s, size_t len)
{
	char *p = config__arena_alloc(a, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *config__arena_strdup(config_arena *a, const char *s)
{
	return s ? config__arena_strndup(a, s, strlen(s)) : NULL;
}
