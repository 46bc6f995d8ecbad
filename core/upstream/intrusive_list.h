// A doubly-linked list threaded through its elements (idle connections, waiting exchanges,
// DNS waiters), so moving an element in or out never allocates. An element joins a list by
// deriving from ListNode<Tag>; one element can sit in several lists through different tags.
#pragma once

#include <cassert>
#include <cstddef>

namespace sluice::upstream {

template <typename Tag>
struct ListNode {
  ListNode* prev = nullptr;  // both null while the node is in no list
  ListNode* next = nullptr;
  bool linked() const { return next != nullptr; }
};

template <typename T, typename Tag = T>
class IntrusiveList {
  using Node = ListNode<Tag>;

 public:
  IntrusiveList() { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }

  void push_back(T* t) { insert_before(&head_, node(t)); }
  void push_front(T* t) { insert_before(head_.next, node(t)); }
  T* front() const { return empty() ? nullptr : elem(head_.next); }
  T* back() const { return empty() ? nullptr : elem(head_.prev); }
  // The element after `t`, or nullptr at the end (for walks that may remove the current one).
  T* next_of(T* t) const { return node(t)->next == &head_ ? nullptr : elem(node(t)->next); }

  void remove(T* t) {
    Node* n = node(t);
    assert(n->linked());
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    --size_;
  }
  T* pop_front() {
    T* t = front();
    if (t) remove(t);
    return t;
  }
  T* pop_back() {
    T* t = back();
    if (t) remove(t);
    return t;
  }

 private:
  static Node* node(T* t) { return static_cast<Node*>(t); }
  static T* elem(Node* n) { return static_cast<T*>(n); }
  void insert_before(Node* pos, Node* n) {
    assert(!n->linked());
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
    ++size_;
  }

  mutable Node head_;  // sentinel: head_.next is the front, head_.prev the back
  size_t size_ = 0;
};

}  // namespace sluice::upstream
