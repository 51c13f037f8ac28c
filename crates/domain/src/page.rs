use crate::DomainError;

/// A validated page request: `page` from 1, `per_page` in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 100;

    /// # Errors
    /// `BadRequest` when `page` < 1 or `per_page` is outside 1..=100.
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<Self, DomainError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(i64::from(Self::DEFAULT_PER_PAGE));
        if page < 1 || page > i64::from(u32::MAX) {
            return Err(DomainError::BadRequest("page must be at least 1".into()));
        }
        if !(1..=i64::from(Self::MAX_PER_PAGE)).contains(&per_page) {
            return Err(DomainError::BadRequest("per_page must be between 1 and 100".into()));
        }
        Ok(Self { page: page as u32, per_page: per_page as u32 })
    }

    #[must_use]
    pub const fn page(&self) -> u32 {
        self.page
    }

    #[must_use]
    pub const fn per_page(&self) -> u32 {
        self.per_page
    }

    /// Rows to skip; a page far past the end simply yields nothing.
    #[must_use]
    pub fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.per_page)
    }

    #[must_use]
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, per_page: Self::DEFAULT_PER_PAGE }
    }
}

/// One page of a listing and the total it was cut from.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, request: PageRequest, total: u64) -> Self {
        Self { items, page: request.page, per_page: request.per_page, total }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_first_page_of_twenty() {
        let p = PageRequest::parse(None, None).unwrap();
        assert_eq!((p.page(), p.per_page(), p.offset()), (1, 20, 0));
    }

    #[test]
    fn out_of_range_values_are_bad_requests() {
        for (page, per_page) in [(Some(0), None), (Some(-3), None), (None, Some(0)), (None, Some(101))] {
            assert!(matches!(PageRequest::parse(page, per_page), Err(DomainError::BadRequest(_))));
        }
    }

    #[test]
    fn offset_counts_whole_pages() {
        assert_eq!(PageRequest::parse(Some(3), Some(50)).unwrap().offset(), 100);
    }
}
